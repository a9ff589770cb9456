// Snapper profiles Linux processes (ptrace, /proc); its tests run where it runs.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
