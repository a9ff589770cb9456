using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Shop;

/// <summary>The work behind each endpoint, in methods named after it, so a profile (and --focus) can find them.</summary>
public static class ShopEndpoints
{
    /// <summary>SQL: the search scans every order (LIKE on a text column) and groups the matches.</summary>
    public static IReadOnlyList<CategoryTotal> SearchOrders(ShopDatabase db)
    {
        using var connection = db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT category, count(*), sum(quantity * price)
            FROM orders
            WHERE customer LIKE '%7%' OR note LIKE '%rush%'
            GROUP BY category ORDER BY 3 DESC;
            """;
        var totals = new List<CategoryTotal>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) totals.Add(new CategoryTotal(reader.GetString(0), reader.GetInt64(1), reader.GetDouble(2)));
        return totals;
    }

    /// <summary>Serialization: the whole catalog as JSON (about 2 MB).</summary>
    public static byte[] SerializeCatalog(Catalog catalog) => JsonSerializer.SerializeToUtf8Bytes(catalog.Products, JsonOptions);

    static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>Locks: every reservation goes through one lock, held while the (slow) supplier answers.</summary>
    public static int ReserveStock(Inventory inventory) => inventory.Reserve();

    /// <summary>HTTP outbound: a synchronous call to the upstream price service (this same process, /upstream/prices).</summary>
    public static int FetchPrices(HttpClient client, HttpContext context)
    {
        var request = context.Request;
        var url = $"{request.Scheme}://{request.Host}/upstream/prices";
        using var response = client.Send(new HttpRequestMessage(HttpMethod.Get, url));
        response.EnsureSuccessStatusCode();
        using var body = response.Content.ReadAsStream();
        using var copy = new MemoryStream();
        body.CopyTo(copy);
        return (int)copy.Length;
    }

    /// <summary>
    /// Async HTTP outbound: the same upstream call as <see cref="FetchPrices"/>, awaited end to end, so a waiting request
    /// is on no thread at all: only a heap walk (snapper dump --async) finds it, with this method in its chain.
    /// </summary>
    public static async Task<IResult> QuoteAsync(HttpClient client, HttpContext context)
    {
        var request = context.Request;
        var url = $"{request.Scheme}://{request.Host}/upstream/prices";
        using var response = await client.GetAsync(url, context.RequestAborted);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);
        return Results.Ok(body.Length);
    }

    /// <summary>Your code: scores 20,000 candidates and sorts them (List.Sort called from here counts as your code).</summary>
    public static IReadOnlyList<int> Recommend()
    {
        var random = new Random(42);
        var scores = new List<Candidate>(20_000);
        for (var i = 0; i < 20_000; i++) scores.Add(new Candidate(i, Score(i, random.Next(1000))));
        scores.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        return scores.Take(10).Select(c => c.Id).ToList();
    }

    static double Score(int id, int seed)
    {
        var x = (double)seed;
        for (var k = 0; k < 40; k++) x = Math.Sqrt(x * 1.0001 + id % 7 + k);
        return x;
    }

    readonly record struct Candidate(int Id, double Score);
}

public sealed record CategoryTotal(string Category, long Orders, double Revenue);

/// <summary>A SQLite file in the temp directory with 60,000 orders, built once at start.</summary>
public sealed class ShopDatabase : IDisposable
{
    readonly string _path = Path.Combine(Path.GetTempPath(), $"shop-{Environment.ProcessId}.db");

    public ShopDatabase()
    {
        File.Delete(_path);
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer TEXT, category TEXT, quantity INTEGER, price REAL, note TEXT);";
            create.ExecuteNonQuery();
        }
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO orders(customer, category, quantity, price, note) VALUES($c, $cat, $q, $p, $n);";
        var customer = insert.Parameters.Add("$c", SqliteType.Text);
        var category = insert.Parameters.Add("$cat", SqliteType.Text);
        var quantity = insert.Parameters.Add("$q", SqliteType.Integer);
        var price = insert.Parameters.Add("$p", SqliteType.Real);
        var note = insert.Parameters.Add("$n", SqliteType.Text);
        var random = new Random(1);
        for (var i = 0; i < 60_000; i++)
        {
            customer.Value = $"customer-{random.Next(100_000)}";
            category.Value = $"category-{i % 40}";
            quantity.Value = 1 + i % 9;
            price.Value = random.NextDouble() * 100;
            note.Value = i % 13 == 0 ? "rush delivery please" : "leave at the door, thank you";
            insert.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={_path}");
        connection.Open();
        return connection;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }
}

/// <summary>4,000 products with variants and reviews: a large object graph to serialize.</summary>
public sealed class Catalog
{
    public IReadOnlyList<Product> Products { get; } = Enumerable.Range(0, 4_000).Select(i => new Product(
        i, $"Product {i}", $"A fine product number {i}, suitable for every purpose.", Math.Round(i * 1.37 % 500, 2),
        Enumerable.Range(0, 4).Select(v => new Variant($"SKU-{i}-{v}", v % 2 == 0 ? "red" : "blue", 10 + v)).ToList(),
        Enumerable.Range(0, 3).Select(r => new Review(r + 1, $"Review {r} of product {i}: works as described.")).ToList())).ToList();
}

public sealed record Product(int Id, string Name, string Description, double Price, List<Variant> Variants, List<Review> Reviews);

public sealed record Variant(string Sku, string Colour, int Stock);

public sealed record Review(int Stars, string Text);

/// <summary>Stock kept behind one lock; the supplier check inside it takes 2 ms, so concurrent requests queue.</summary>
public sealed class Inventory
{
    readonly object _gate = new();
    int _reserved;

    public int Reserve()
    {
        lock (_gate)
        {
            Thread.Sleep(2); // the slow supplier check, done while holding the lock: everyone else waits
            return ++_reserved;
        }
    }
}
