// Snapper profiles Linux processes (ptrace, /proc); its tests run where it runs.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// The real-process tests measure rates, states and CPU shares of target programs on machines with about one core:
// run side by side, their targets and Snappers starve each other and the facts under test blur. One at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
