// The trajectory chart of a target page (Chart.js): expected trajectory, milestones, approved
// actuals, the forecast line and the latest report's as-of point, read from the json_script
// element "chart-data". A smooth trajectory comes as a densely sampled curve: straight
// segments between its points draw it, with no Chart.js tension of its own.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  var canvas = document.getElementById("trajectory-chart");
  if (!source || !canvas || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var lang = document.documentElement.lang || "vi";
  var numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  // Dates as the pages write them: 30/09/2026 in Vietnamese, 30 Sep 2026 in English (the
  // British order: never the United States' 09/30/2026).
  var dateLocale = lang === "en" ? "en-GB" : lang;
  var dates = new Intl.DateTimeFormat(dateLocale, { year: "numeric", month: "short" });
  var days = new Intl.DateTimeFormat(dateLocale, lang === "en"
    ? { year: "numeric", month: "short", day: "numeric" }
    : { year: "numeric", month: "2-digit", day: "2-digit" });

  function points(items) {
    return items.map(function (p) { return { x: Date.parse(p.x), y: p.y }; });
  }

  var today = Date.parse(data.today);
  var expected = points(data.expected);
  var datasets = [
    {
      label: data.labels.expected, data: expected, borderColor: "#6c757d",
      backgroundColor: "#6c757d", borderDash: [6, 4], pointRadius: 0,
      stepped: data.stepped ? "before" : false, order: 3
    },
    {
      label: data.labels.milestones, data: points(data.milestones), showLine: false,
      pointStyle: "rectRot", pointRadius: 7, borderColor: "#fd7e14",
      backgroundColor: "#fd7e14", order: 1
    },
    {
      label: data.labels.actuals, data: points(data.actuals), borderColor: "#0d6efd",
      backgroundColor: "#0d6efd", pointRadius: 4, order: 0
    }
  ];
  if (data.forecast.length) {
    datasets.push({
      label: data.labels.forecast, data: points(data.forecast), borderColor: "#dc3545",
      backgroundColor: "#dc3545", borderDash: [2, 3], pointRadius: 0, order: 2
    });
  }
  // The target value at the due date: what the whole plan is for.
  datasets.push({
    label: data.labels.target, data: [{ x: Date.parse(data.target.x), y: data.target.y }],
    showLine: false, pointStyle: "star", pointRadius: 10, borderWidth: 2, clip: false,
    borderColor: "#212529", backgroundColor: "#212529", order: -2
  });
  var asOf = data.as_of ? { x: Date.parse(data.as_of.x), y: data.as_of.y } : null;
  if (asOf) {
    // The report the status speaks for: a ring around its actual, distinct from the others.
    datasets.push({
      label: data.labels.as_of, data: [asOf], showLine: false, pointStyle: "circle",
      pointRadius: 9, pointHoverRadius: 10, borderWidth: 3, borderColor: "#6f42c1",
      backgroundColor: "rgba(111, 66, 193, 0.15)", order: -1
    });
  }
  var xs = expected.map(function (p) { return p.x; });
  var first = Math.min.apply(null, xs), last = Math.max.apply(null, xs);
  datasets.push({
    label: data.labels.today, data: [{ x: today, y: null }], showLine: false,
    pointRadius: 0, borderColor: "#198754", backgroundColor: "#198754", order: 4
  });

  new Chart(canvas, {
    type: "line",
    data: { datasets: datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      interaction: { mode: "nearest", intersect: false },
      scales: {
        x: {
          type: "linear", min: Math.min(first, today), max: Math.max(last, today),
          ticks: { callback: function (v) { return dates.format(new Date(v)); }, maxTicksLimit: 8 }
        },
        y: {
          // Never below the smallest value the target may take (no axis to −1 for a count),
          // nor above a percentage's 100; whole ticks for a count.
          min: data.y_min === null ? undefined : data.y_min,
          max: data.y_max === null ? undefined : data.y_max,
          beginAtZero: data.y_min !== null && data.y_min >= 0,
          ticks: {
            precision: data.integer ? 0 : undefined,
            callback: function (v) { return numbers.format(v); }
          },
          title: { display: !!data.measure, text: data.measure }
        }
      },
      plugins: {
        legend: { position: "bottom", labels: { usePointStyle: true, boxWidth: 8 } },
        tooltip: {
          callbacks: {
            title: function (items) { return items.length ? days.format(new Date(items[0].parsed.x)) : ""; },
            label: function (item) { return item.dataset.label + ": " + numbers.format(item.parsed.y); }
          }
        }
      }
    },
    plugins: [{
      // A vertical line at today, so the expected value now can be read off the chart.
      id: "today-line",
      afterDatasetsDraw: function (chart) {
        var x = chart.scales.x.getPixelForValue(today);
        var area = chart.chartArea;
        if (x < area.left || x > area.right) { return; }
        var ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = "#198754";
        ctx.setLineDash([4, 4]);
        ctx.beginPath(); ctx.moveTo(x, area.top); ctx.lineTo(x, area.bottom); ctx.stroke();
        ctx.restore();
      }
    }, {
      // From the expected value at the as-of date to the actual then: the gap the status judges.
      id: "as-of-gap",
      afterDatasetsDraw: function (chart) {
        if (!asOf || data.as_of.expected === null) { return; }
        var x = chart.scales.x.getPixelForValue(asOf.x);
        var area = chart.chartArea;
        if (x < area.left || x > area.right) { return; }
        var ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = "#6f42c1";
        ctx.setLineDash([2, 2]);
        ctx.beginPath();
        ctx.moveTo(x, chart.scales.y.getPixelForValue(data.as_of.expected));
        ctx.lineTo(x, chart.scales.y.getPixelForValue(asOf.y));
        ctx.stroke();
        ctx.restore();
      }
    }]
  });
  canvas.dataset.rendered = "true";
})();
