using Microsoft.Data.Sqlite;
using Shop;

// A small shop whose endpoints each spend their time in one layer, to see Snapper's layer breakdown and --focus at
// work under real HTTP load:
//   GET /orders/search   SQL: a Microsoft.Data.Sqlite query that scans and groups 60,000 rows
//   GET /catalog         serialization: a large object graph through System.Text.Json
//   GET /report          views: an MVC Razor view rendering a table of 2,000 rows
//   GET /inventory       locks: every request takes one lock and holds it while it waits on a slow supplier
//   GET /prices          HTTP outbound: an HttpClient call to /upstream/prices on this same service (20 ms)
//   GET /recommend       your code: scoring and sorting in plain C#
//   GET /quote           async HTTP outbound: awaits an HttpClient call to /upstream/prices (20 ms), holding no thread
//                        meanwhile (what 'snapper dump --async' shows)
// Usage: dotnet ShopService.dll [--urls http://127.0.0.1:5080]. Prints "READY <url>" once it listens.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders(); // a service under load should not spend its time logging each request
builder.Services.AddControllersWithViews();
builder.Services.AddSingleton<ShopDatabase>();
builder.Services.AddSingleton<Catalog>();
builder.Services.AddSingleton<Inventory>();
builder.Services.AddSingleton(_ => new HttpClient { Timeout = TimeSpan.FromSeconds(30) });
builder.WebHost.ConfigureKestrel(k => k.AllowSynchronousIO = false);
var app = builder.Build();

app.MapGet("/orders/search", (ShopDatabase db) => Results.Ok(ShopEndpoints.SearchOrders(db)));
app.MapGet("/catalog", (Catalog catalog) => Results.Bytes(ShopEndpoints.SerializeCatalog(catalog), "application/json"));
app.MapGet("/inventory", (Inventory inventory) => Results.Ok(ShopEndpoints.ReserveStock(inventory)));
app.MapGet("/prices", (HttpContext context, HttpClient client) => Results.Ok(ShopEndpoints.FetchPrices(client, context)));
app.MapGet("/recommend", () => Results.Ok(ShopEndpoints.Recommend()));
app.MapGet("/quote", (HttpContext context, HttpClient client) => ShopEndpoints.QuoteAsync(client, context));
app.MapGet("/upstream/prices", async () =>
{
    await Task.Delay(20); // a slow upstream service: the caller's thread waits on the socket meanwhile
    return Results.Text("{\"prices\":[1,2,3]}", "application/json");
});
app.MapControllerRoute("report", "report", new { controller = "Shop", action = "Report" });

app.Services.GetRequiredService<ShopDatabase>(); // build the database before saying READY
app.Services.GetRequiredService<Catalog>();
await app.StartAsync();
Console.WriteLine("READY " + string.Join(' ', app.Urls));
await app.WaitForShutdownAsync();
