using System.Text.Json;
using Snapper.Store;
using static Snapper.Report.Tests.ProfileBuilder;

namespace Snapper.Report.Tests;

/// <summary>The built-in layer rules on stacks as real frameworks produce them, the rule semantics, and user files.</summary>
public sealed class LayerRulesTests
{
    static readonly FrameInfo ThreadStart = Framework("System.Threading.Thread", "StartCallback");
    static readonly FrameInfo Dispatch = Framework("System.Threading.ThreadPoolWorkQueue", "Dispatch");
    static readonly FrameInfo Kestrel = new(FrameKind.Managed, "Microsoft.AspNetCore.Server.Kestrel.Core.dll",
        "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol+<ProcessRequests>d__237<System.__Canon>", "MoveNext");
    static readonly FrameInfo Routing = new(FrameKind.Managed, "Microsoft.AspNetCore.Routing.dll", "Microsoft.AspNetCore.Routing.EndpointMiddleware", "Invoke");
    static readonly FrameInfo Controller = Managed("Shop.OrdersController", "Checkout", "Shop.dll");

    static string Layer(SampleState state, string? role, params FrameInfo[] stack) => LayerRules.Default.Classify(stack, state, role);

    static string Layer(params FrameInfo[] stack) => Layer(SampleState.Cpu, "thread pool worker", stack);

    static FrameInfo Lib(string module, string type, string method) => new(FrameKind.Managed, module, type, method);

    [Fact]
    public void Base_library_code_called_from_your_code_is_your_code()
    {
        // List.Sort's comparer and introsort are System.* frames inside the controller: the controller's layer.
        Assert.Equal("app", Layer(ThreadStart, Dispatch, Kestrel, Routing, Controller,
            Framework("System.Collections.Generic.List`1[[System.Int32, System.Private.CoreLib]]", "Sort"),
            Framework("System.Collections.Generic.ArraySortHelper`1", "IntroSort"),
            Native("[native code in libcoreclr.so]")));
        Assert.Equal("app", Layer(ThreadStart, Controller, Framework("System.Linq.Enumerable", "ToList")));
    }

    [Fact]
    public void Each_data_access_library_is_sql_wherever_it_is_called_from()
    {
        Assert.Equal("sql", Layer(Kestrel, Controller, Lib("Microsoft.Data.Sqlite.dll", "Microsoft.Data.Sqlite.SqliteDataReader", "Read"),
            Lib("SQLitePCLRaw.provider.e_sqlite3.dll", "SQLitePCL.SQLite3Provider_e_sqlite3", "SQLitePCL.ISQLite3Provider.sqlite3_step"),
            new FrameInfo(FrameKind.Transition, "e_sqlite3", "", "e_sqlite3!sqlite3_step"),
            Native("[native code in libe_sqlite3.so]", "libe_sqlite3.so")));
        Assert.Equal("sql", Layer(Kestrel, Controller, Lib("Npgsql.dll", "Npgsql.NpgsqlCommand", "ExecuteReader"),
            Framework("System.Net.Sockets.Socket", "Receive")));
        Assert.Equal("sql", Layer(Kestrel, Controller, Lib("Microsoft.EntityFrameworkCore.Relational.dll",
            "Microsoft.EntityFrameworkCore.Query.Internal.SingleQueryingEnumerable`1+Enumerator", "MoveNext")));
        Assert.Equal("sql", Layer(Kestrel, Controller, Lib("Microsoft.Data.SqlClient.dll", "Microsoft.Data.SqlClient.SqlDataReader", "ReadAsync")));
        Assert.Equal("sql", Layer(Kestrel, Controller, Lib("Dapper.dll", "Dapper.SqlMapper", "Query")));
    }

    [Fact]
    public void Serialization_http_views_and_the_framework_are_told_apart()
    {
        Assert.Equal("serialization", Layer(Kestrel, Routing, Controller,
            Lib("System.Text.Json.dll", "System.Text.Json.Serialization.Metadata.JsonPropertyInfo`1", "GetMemberAndWriteJson"),
            Lib("System.Text.Encodings.Web.dll", "System.Text.Encodings.Web.OptimizedInboxTextEncoder", "GetIndexOfFirstCharToEncode")));
        Assert.Equal("serialization", Layer(Kestrel, Controller, Lib("Newtonsoft.Json.dll", "Newtonsoft.Json.Serialization.JsonSerializerInternalWriter", "SerializeObject")));
        Assert.Equal("http-client", Layer(Kestrel, Controller, Lib("System.Net.Http.dll", "System.Net.Http.HttpClient", "Send"),
            Lib("System.Net.Http.dll", "System.Net.Http.HttpConnection+<InitialFillAsync>d__81", "MoveNext"),
            Framework("System.Net.Sockets.Socket", "Receive")));
        // A compiled Razor view is in the app's own assembly, yet it is view rendering, as is the Razor runtime it calls.
        Assert.Equal("views", Layer(Kestrel, Routing, Managed("AspNetCoreGeneratedDocument.Views_Shop_Report", "ExecuteAsync", "Shop.dll"),
            Lib("Microsoft.AspNetCore.Mvc.Razor.dll", "Microsoft.AspNetCore.Mvc.Razor.RazorPageBase", "WriteAttributeValue")));
        // Kestrel parsing a request with no application code on the stack.
        Assert.Equal("aspnet", Layer(ThreadStart, Dispatch, Kestrel,
            Lib("Microsoft.AspNetCore.Server.Kestrel.Core.dll", "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpParser`1", "ParseHeaders")));
    }

    [Fact]
    public void A_lock_your_code_takes_is_locks_but_a_wait_inside_a_library_is_that_library()
    {
        var monitor = Framework("System.Threading.Monitor", "Enter");
        var wait = Framework("System.Threading.ManualResetEventSlim", "Wait");
        Assert.Equal("locks", Layer(SampleState.LockWait, "thread pool worker", Kestrel, Controller, monitor, Transition("[HelperMethodFrame]")));
        Assert.Equal("locks", Layer(SampleState.Sleep, null, Controller, Framework("System.Threading.Thread", "Sleep")));
        Assert.Equal("http-client", Layer(SampleState.LockWait, null, Controller, Lib("System.Net.Http.dll", "System.Net.Http.HttpClient", "Send"), wait));
        Assert.Equal("sql", Layer(SampleState.LockWait, null, Controller, Lib("Npgsql.dll", "Npgsql.PoolingDataSource", "Get"),
            Framework("System.Threading.SemaphoreSlim", "Wait")));
        // Blocked with nothing any rule names: the state decides.
        Assert.Equal("locks", Layer(SampleState.LockWait, null, ThreadStart, Framework("System.Threading.WaitSubsystem", "Park")));
    }

    [Fact]
    public void A_main_thread_waiting_for_the_host_to_stop_is_idle_but_a_main_that_blocks_on_its_own_lock_is_locks()
    {
        var stub = Managed("Program", "<Main>", "Shop.dll");
        var getResult = Framework("System.Runtime.CompilerServices.TaskAwaiter", "GetResult");
        var wait = Framework("System.Threading.Tasks.Task", "InternalWaitCore");
        var monitor = Framework("System.Threading.Monitor", "Wait");
        Assert.Equal("idle", Layer(SampleState.LockWait, "main thread", stub, getResult, wait, Framework("System.Threading.ManualResetEventSlim", "Wait"), monitor));
        Assert.Equal("idle", Layer(SampleState.LockWait, "main thread", Managed("Program", "Main", "Shop.dll"),
            Lib("Microsoft.AspNetCore.dll", "Microsoft.AspNetCore.Builder.WebApplication", "Run"),
            Lib("Microsoft.Extensions.Hosting.Abstractions.dll", "Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions", "Run"), getResult, wait, monitor));
        // The user's Main waiting on a lock of its own: the nearest claimed frame further out is the app's.
        Assert.Equal("locks", Layer(SampleState.LockWait, "main thread", stub, Managed("Program", "<Main>$", "Shop.dll"),
            Managed("Shop.Worker", "Drain", "Shop.dll"), Framework("System.Threading.Monitor", "Enter")));
        // And its CPU work is its own.
        Assert.Equal("app", Layer(SampleState.Cpu, "main thread", stub, Managed("Program", "<Main>$", "Shop.dll")));
        // Service loops waiting for their next event are idle; the same frames running are not.
        var heartbeat = Lib("Microsoft.AspNetCore.Server.Kestrel.Core.dll", "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Infrastructure.Heartbeat", "TimerLoop");
        Assert.Equal("idle", Layer(SampleState.LockWait, null, ThreadStart, heartbeat, Framework("System.Threading.ManualResetEventSlim", "Wait"), monitor));
        Assert.Equal("aspnet", Layer(SampleState.Cpu, null, ThreadStart, heartbeat));
        Assert.Equal("idle", Layer(SampleState.Io, "file watcher", ThreadStart,
            Lib("System.IO.FileSystem.Watcher.dll", "System.IO.FileSystemWatcher+RunningInstance", "TryReadEvent"), Lib("System.IO.FileSystem.Watcher.dll", "Interop+Sys", "Read"),
            new FrameInfo(FrameKind.Transition, "libSystem.Native", "", "libSystem.Native!SystemNative_Read")));
    }

    [Fact]
    public void Focus_matches_an_async_method_by_the_name_it_was_written_with()
    {
        var focus = FocusPattern.TryParse("OrdersController.Checkout", out _)!;
        Assert.True(focus.Matches(Managed("Shop.OrdersController+<Checkout>d__5", "MoveNext", "Shop.dll")));
        Assert.True(focus.Matches(Managed("Shop.OrdersController", "Checkout", "Shop.dll")));
        Assert.False(focus.Matches(Managed("Shop.OrdersController+<Cancel>d__6", "MoveNext", "Shop.dll")));
        Assert.Equal("Shop.Repo`1.Load", FocusPattern.AsyncMethodName(Managed("Shop.Repo`1+<Load>d__3<System.Int32>", "MoveNext")));
        Assert.Null(FocusPattern.AsyncMethodName(Managed("Program+<>c", "<<Main>$>b__0_1")));
        Assert.Null(FocusPattern.TryParse("(", out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void Idle_threads_and_the_runtime_own_threads_come_first()
    {
        Assert.Equal("idle", Layer(SampleState.IdleThreadPool, "thread pool worker", ThreadStart, Framework("System.Threading.LowLevelLifoSemaphore", "Wait")));
        Assert.Equal("runtime", Layer(SampleState.Cpu, "finalizer", Framework("System.GC", "RunFinalizers"), Controller));
        Assert.Equal("runtime", Layer(SampleState.Cpu, "background GC"));
        Assert.Equal("runtime", Layer(SampleState.Cpu, "thread pool worker", ThreadStart, Dispatch));
        Assert.Equal("runtime", Layer(SampleState.Unknown, null));
    }

    [Fact]
    public void A_user_file_is_consulted_first_and_can_name_new_layers_and_vendor_prefixes()
    {
        using var dir = new TempFile("""
            {
              // our message bus client is a layer of its own; our vendored library is not "our code"
              "version": 1,
              "framework": ["Acme.Vendored."],
              "frames": [
                { "layer": "bus", "match": ["Shop.Bus.*"] },
                { "layer": "sql", "match": ["Shop.Data.LegacyDb.*"] }
              ],
              "descriptions": { "bus": "the message bus client" }
            }
            """);
        var rules = LayerRules.Load(dir.Path);
        Assert.Equal("bus", rules.Layers[0]);
        Assert.Contains("sql", rules.Layers);
        Assert.Equal("bus", rules.Classify([Kestrel, Controller, Managed("Shop.Bus.Publisher", "Publish", "Shop.dll")], SampleState.Cpu, null));
        Assert.Equal("sql", rules.Classify([Controller, Managed("Shop.Data.LegacyDb", "Query", "Shop.dll")], SampleState.Cpu, null));
        // A vendored library under a framework prefix is passed over: its caller decides.
        Assert.Equal("app", rules.Classify([Controller, Lib("Acme.Vendored.dll", "Acme.Vendored.Parser", "Parse")], SampleState.Cpu, null));
        Assert.Equal("runtime", rules.Classify([ThreadStart, Lib("Acme.Vendored.dll", "Acme.Vendored.Parser", "Parse")], SampleState.Cpu, null));
        Assert.Equal("the message bus client", rules.Descriptions["bus"]);
        Assert.Equal("app", LayerRules.Default.Classify([Controller, Managed("Shop.Bus.Publisher", "Publish", "Shop.dll")], SampleState.Cpu, null));
    }

    [Theory]
    [InlineData("{", "is not valid JSON")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("""{"frames": [{"layer": "x"}]}""", "matches no frame")]
    [InlineData("""{"frames": [{"layer": "Bad Name", "match": ["A.*"]}]}""", "\"layer\" must be")]
    [InlineData("""{"sample": [{"layer": "x", "states": ["busy"]}]}""", "unknown state 'busy'")]
    [InlineData("""{"frames": [{"layer": "x", "match": "A.*"}]}""", "\"match\" must be an array")]
    [InlineData("""{"frames": [{"layer": "x", "regex": ["A.*"]}]}""", "unknown key 'regex'")]
    [InlineData("""{"version": 2, "frames": []}""", "\"version\" must be 1")]
    [InlineData("""{"layers": []}""", "unknown key 'layers'")]
    public void A_bad_rules_file_is_one_line_naming_the_file_and_the_problem(string json, string expected)
    {
        using var file = new TempFile(json);
        var error = Assert.Throws<LayerRulesException>(() => LayerRules.Load(file.Path));
        Assert.Contains(expected, error.Message);
        Assert.Contains(file.Path, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_missing_rules_file_says_so()
    {
        var error = Assert.Throws<LayerRulesException>(() => LayerRules.Load("/nonexistent/rules.json"));
        Assert.StartsWith("cannot read layer rules '/nonexistent/rules.json'", error.Message);
    }

    [Fact]
    public void Reports_carry_the_breakdown_and_filter_by_layer_and_focus()
    {
        var builder = new ProfileBuilder();
        var worker = builder.Thread(1, "worker", role: "thread pool worker");
        var sql = builder.Stack(Kestrel, Controller, Lib("Microsoft.Data.Sqlite.dll", "Microsoft.Data.Sqlite.SqliteCommand", "ExecuteReader"));
        var sort = builder.Stack(Kestrel, Managed("Shop.Recommender", "Rank", "Shop.dll"), Framework("System.Array", "Sort"));
        var idle = builder.Stack(ThreadStart, Framework("System.Threading.LowLevelLifoSemaphore", "Wait"));
        builder.Sample(worker, sql, 6, SampleState.Cpu).Sample(worker, sort, 3, SampleState.Cpu).Sample(worker, idle, 5, SampleState.IdleThreadPool);
        var profile = builder.Build();

        using var json = JsonDocument.Parse(Render(profile, ReportOptions.Default));
        var overall = json.RootElement.GetProperty("layers").GetProperty("overall").EnumerateArray()
            .ToDictionary(l => l.GetProperty("layer").GetString()!, l => l.GetProperty("samples").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["sql"] = 6, ["app"] = 3 }, overall); // idle hidden by default
        var thread = json.RootElement.GetProperty("threads")[0].GetProperty("layers");
        Assert.Equal(6, thread.GetProperty("sql").GetInt64());
        Assert.Equal(4, JsonReportWriter.FormatVersion);

        using var onlySql = JsonDocument.Parse(Render(profile, new ReportOptions { Layers = new HashSet<string> { "sql" } }));
        Assert.Equal(6, onlySql.RootElement.GetProperty("view").GetProperty("samples").GetInt64());
        Assert.All(onlySql.RootElement.GetProperty("topFunctions").EnumerateArray(),
            f => Assert.NotEqual("Shop.Recommender.Rank", f.GetProperty("name").GetString()));

        var focus = FocusPattern.TryParse("Recommender\\.Rank", out _)!;
        using var focused = JsonDocument.Parse(Render(profile, new ReportOptions { Focus = focus }));
        var view = focused.RootElement.GetProperty("view");
        Assert.Equal(3, view.GetProperty("samples").GetInt64());
        Assert.Equal(9, view.GetProperty("focus").GetProperty("seen").GetInt64()); // the idle samples are not in the view
        Assert.Equal(3, view.GetProperty("focus").GetProperty("kept").GetInt64());

        var text = new StringWriter();
        TextReportWriter.Write(profile, text, new ReportOptions { Focus = focus });
        Assert.Contains("report focus : /Recommender\\.Rank/: kept 3 of 9 thread samples (33.3%)", text.ToString());
        Assert.Contains("Layers per thread", text.ToString());
    }

    [Fact]
    public void The_html_report_escapes_layer_names_and_descriptions_and_embeds_each_sample_layer()
    {
        using var file = new TempFile("""
            { "frames": [ { "layer": "x-bus", "match": ["Shop.*"] } ], "descriptions": { "x-bus": "<img src=x onerror=alert(1)>" } }
            """);
        var builder = new ProfileBuilder();
        var thread = builder.Thread(1, "<script>alert(1)</script>");
        builder.Sample(thread, builder.Stack(Controller), 4, SampleState.Cpu);
        var html = new StringWriter();
        HtmlReportWriter.Write(builder.Build(), html, new ReportOptions { LayerRules = LayerRules.Load(file.Path) });
        var page = html.ToString();
        Assert.DoesNotContain("<img src=x", page);
        Assert.Contains("&lt;img src", page);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", page);
        Assert.Contains("data-layer-samples=\"0\">4<", page);
        Assert.Contains("class=\"layer-pick\"", page);
    }

    static string Render(Profile profile, ReportOptions options)
    {
        var output = new StringWriter();
        JsonReportWriter.Write(profile, output, options);
        return output.ToString();
    }

    sealed class TempFile : IDisposable
    {
        public TempFile(string text)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"snapper-layers-{Guid.NewGuid():N}.json");
            File.WriteAllText(Path, text);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
