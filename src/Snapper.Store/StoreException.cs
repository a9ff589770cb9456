namespace Snapper.Store;

/// <summary>A problem with the database that a user can act on (path not writable, not a Snapper database, too new).</summary>
public sealed class StoreException(string message, Exception? inner = null) : Exception(message, inner);
