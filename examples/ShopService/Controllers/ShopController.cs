using Microsoft.AspNetCore.Mvc;

namespace Shop.Controllers;

/// <summary>Views: the sales report is a Razor view over 2,000 rows; the action itself does almost nothing.</summary>
public sealed class ShopController : Controller
{
    static readonly IReadOnlyList<ReportRow> Rows = Enumerable.Range(0, 2_000)
        .Select(i => new ReportRow(i, $"Customer <{i}> & Sons", $"category-{i % 40}", i * 3.5m, i % 3 == 0)).ToList();

    public IActionResult Report() => View(Rows);
}

public sealed record ReportRow(int Id, string Customer, string Category, decimal Revenue, bool Flagged);
