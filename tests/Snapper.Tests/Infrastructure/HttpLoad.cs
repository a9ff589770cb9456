using System.Net;

namespace Snapper.Tests.Infrastructure;

/// <summary>
/// A bounded HTTP load generator for the web-service tests: a few workers, each requesting its paths in turn, until
/// stopped or until the request budget is spent. Counts answers and failures so a test can tell load from no load.
/// </summary>
public sealed class HttpLoad : IAsyncDisposable
{
    readonly HttpClient _client;
    readonly CancellationTokenSource _stop = new();
    readonly Task[] _workers;
    int _budget;
    int _ok;
    int _failed;

    /// <param name="perPath">Concurrent workers for each path.</param>
    /// <param name="maxRequests">Total requests at most, whatever the time.</param>
    public HttpLoad(Uri baseAddress, IReadOnlyList<string> paths, int perPath = 3, int maxRequests = 50_000)
    {
        _budget = maxRequests;
        _client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        _workers = paths.SelectMany(path => Enumerable.Range(0, perPath).Select(_ => Task.Run(() => Run(path)))).ToArray();
    }

    public int Ok => Volatile.Read(ref _ok);
    public int Failed => Volatile.Read(ref _failed);

    async Task Run(string path)
    {
        while (!_stop.IsCancellationRequested && Interlocked.Decrement(ref _budget) >= 0)
        {
            try
            {
                using var response = await _client.GetAsync(path, HttpCompletionOption.ResponseContentRead, _stop.Token).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref _ok);
                else Interlocked.Increment(ref _failed);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref _failed);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_workers).ConfigureAwait(false);
        _client.Dispose();
        _stop.Dispose();
    }
}
