// Performance charts (Plotly, served from our static files): equity with drawdown beneath it,
// the distribution of trade returns, and a month-by-month heatmap.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var words = document.getElementById("chart-words").dataset;
  var locale = (document.documentElement.lang || "en").toLowerCase() === "pt-br" ? "pt-BR" : "en";
  var config = { responsive: true, displaylogo: false };
  var num = function (list) { return list.map(Number); };
  var separators = locale === "pt-BR" ? ",." : ".,";

  if (data.equity.x.length) {
    Plotly.newPlot("chart-equity", [
      { x: data.equity.x, y: num(data.equity.y), type: "scatter", mode: "lines", name: words.equity, line: { color: "#0b6e4f" } },
      { x: data.drawdown.x, y: num(data.drawdown.y), type: "scatter", mode: "lines", fill: "tozeroy", name: words.drawdown, yaxis: "y2", line: { color: "#b42318" } }
    ], {
      separators: separators, margin: { t: 10, r: 10, b: 40, l: 60 }, showlegend: false,
      grid: { rows: 2, columns: 1, roworder: "top to bottom" },
      yaxis: { domain: [0.35, 1], title: words.equity }, yaxis2: { domain: [0, 0.25], title: words.drawdown },
      // Plotly ships English month names only: Portuguese pages get numeric dates (day/month).
      xaxis: locale === "pt-BR" ? { anchor: "y2", tickformat: "%d/%m\n%Y", hoverformat: "%d/%m/%Y %H:%M" } : { anchor: "y2" }
    }, config);
  }
  if (data.returns.x.length) {
    Plotly.newPlot("chart-returns", [
      { x: num(data.returns.x), y: data.returns.y, type: "bar", width: Number(data.returns.width),
        marker: { color: num(data.returns.x).map(function (v) { return v >= 0 ? "#0b6e4f" : "#b42318"; }) } }
    ], { separators: separators, margin: { t: 10, r: 10, b: 40, l: 40 }, xaxis: { title: words["return"] }, yaxis: { title: words.trades } }, config);
  }
  if (data.monthly.cells.length) {
    var years = data.monthly.years, z = years.map(function () { return new Array(12).fill(null); });
    var text = years.map(function () { return new Array(12).fill(""); });
    var pct = new Intl.NumberFormat(locale, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
    data.monthly.cells.forEach(function (c) {
      var row = years.indexOf(c[0]);
      z[row][c[1] - 1] = Number(c[2]);
      text[row][c[1] - 1] = pct.format(Number(c[2])) + "%";
    });
    var months = Array.from({ length: 12 }, function (_, i) {
      return new Date(2000, i, 1).toLocaleString(locale, { month: "short" });
    });
    Plotly.newPlot("chart-monthly", [
      { z: z, x: months, y: years.map(String), type: "heatmap", colorscale: [[0, "#b42318"], [0.5, "#f7f8fa"], [1, "#0b6e4f"]], zmid: 0,
        text: text, texttemplate: "%{text}", hovertemplate: "%{y} %{x}: %{text}<extra></extra>" }
    ], { separators: separators, margin: { t: 10, r: 10, b: 30, l: 50 }, yaxis: { type: "category" } }, config);
  }
  window.tradingsvcCharts = { equityPoints: data.equity.x.length, ready: true };
})();
