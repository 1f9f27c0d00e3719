// Package export writes a run's results for people who were not at the
// keyboard: the PDF capacity report a manager reads, the CSV of every
// series, and each chart as PNG and SVG.
//
// # The report
//
// WritePDF renders one run, or two runs of the same scenario side by side
// (typically the incident and its remediation). Its pages are:
//
//   - A cover: the scenario's title, the variant or variants, the date the
//     report was made, the Stormglass version, replications and simulated
//     time.
//   - An executive summary on one page: the verdict against each
//     service-level objective (met, violated or uncertain, from the 95 %
//     confidence interval), or, when the scenario declares none, a
//     statement saying so; the headline figures; the peak load the run saw
//     and the peak work done; with two runs, the difference that matters
//     most (an objective whose verdict changes, else the figure that moves
//     most; given paired differences, a figure whose difference is
//     significant at 95 % comes first, and the sentence says so) and "the
//     fix", the knobs whose values differ; and the risk in one sentence
//     (the worst missed objective, else one too close to call, else the
//     tightest margin). All of it is derived from the results; nothing is
//     written per scenario.
//   - Charts over time, chosen by series name among load, connections,
//     queue depth, CPU, latency percentiles and errors (at most MaxCharts),
//     with the time of day on the x axis and the timeline's events drawn as
//     numbered vertical lines; with two runs each chart overlays both
//     (solid: first run, dashed: second). Long series are decimated to
//     MaxPoints keeping each bucket's minimum and maximum, so peaks survive.
//     Then the timeline as a table.
//   - Every figure with its interval (both runs side by side). Intervals
//     are cut at zero, as no figure is negative. With fewer than five
//     replications a sentence says so: one gives no intervals, two to four
//     give wide ones. Given paired differences, a two-run report adds a
//     column "Difference (2nd − 1st)": the second run's mean minus the
//     first's with its 95 % interval and the change relative to the first
//     run ("-21.23 [-27.92, -14.53] s (-99.44 %)"), in bold with a shaded
//     cell where the interval excludes zero, and a paragraph on how it is
//     computed: replication i of both runs ran on the same random numbers
//     (common random numbers), so the noise they share cancels and the
//     interval is that of the per-replication differences.
//   - The knob table with changed knobs highlighted, the assumptions and
//     model notes (the scenario's description and source, how series and
//     verdicts are computed) and a reproducibility block: scenario file and
//     SHA-256, seed, replications, horizon, version and the command that
//     runs it again (with a --set for each knob the run's command set).
//
// Every page has a "Page n/N" footer. Text is set in DejaVu Sans, with any
// character DejaVu lacks (Chinese, Japanese, Korean) set in Droid Sans
// Fallback: fpdf cells have one font each, so each string is split into
// runs by font. DefaultFonts finds both on the system; fpdf embeds only the
// glyphs used. Charts are drawn by gonum/plot and embedded as 200 DPI PNG.
//
// # Chart text
//
// Chart text (title, axis and tick labels, legend, event numbers) is set
// in the same fonts, split into runs the same way: Droid Sans Fallback has
// no Latin letters or digits, so no single font can draw a label such as
// "latency_p99 (事故回放)". A label DejaVu covers is drawn by gonum/plot's
// plain text handler unchanged. The fonts go into a font cache built for
// each call; gonum/plot's package-level fonts (font.DefaultCache,
// plot.DefaultFont, plot.DefaultTextHandler) are not changed, and every
// text style plot.New sets from them is replaced.
// SVG charts name the fonts without embedding them.
//
// # Live charts
//
// The desktop app shows the same charts on screen, redrawn 10 to 20 times
// a second while a replay runs. RenderChart draws one Chart at exactly the
// requested pixel size, at 96 DPI, in the report's look. It decimates each
// line to about one point per pixel column, keeping each bucket's minimum
// and maximum, so the cost depends on the image size, not the series
// length: at 800×400, about 2.5 ms for axes and text, 5.5 ms with four smooth
// day-long lines, 13 ms with four noisy ones. Long lines are stroked a few
// segments at a time, because the rasteriser's cost grows with the square
// of a path's length. Load Fonts once and pass them in: nil reads the font
// files on every call.
//
// RenderOptions sets the x axis to span at least HorizonS (the replay's
// whole horizon), so a chart keeps its scale while the series fill in. The
// axis runs to the longest of that, the Chart's HorizonS (the result's)
// and the points. A result taken mid-replay may carry the time so far as
// its horizon, so pass the replay's own. Cursor and CursorS draw a
// vertical line at a time: "now", or a time the user picked.
//
// The returned ChartFrame maps pixels to data: the data area's rectangle
// (image pixels, y down), its x range in seconds since time 0 (ClockS
// gives the time of day) and its y range. At(x, y) reads a pixel: the
// time, each line's recorded sample at that time (not a decimated point),
// formatted by FormatValue and keyed to the legend, and the nearest event
// mark within a few pixels. It reports false outside the data area.
// PixelX and TimeAt convert between times and columns.
//
// Partial results chart as complete ones do. A series appears once it
// has a point; NaN and infinite points are skipped; an all-zero chart
// spans 0 to 1. RenderChart changes no shared state, so charts may be
// drawn on several goroutines at once. A ChartFrame is not changed after
// it is returned. It shares the lines' Values with the Chart, which must
// not be changed while the frame is in use.
//
// # Determinism and progress
//
// The same Report, including its Generated time, gives byte-identical PDF
// bytes: the creation date comes from the report and nothing is random.
// Rendering takes about a second for six charts, nearly all of it in
// compressing the charts' PNG; Report.Progress, when set, is called once
// per section and once per chart with a fixed total, done rising by one
// and reaching the total once, after the PDF is written.
//
// # API
//
// WritePDF renders a Report: Runs (one or two), Generated, Fonts (nil
// means DefaultFonts), Differences (from runner.Differences; used with two
// runs) and Progress. WriteSeriesCSV writes one row per sample (time_s,
// clock, then a column per series); WriteChartPNG and WriteChartSVG draw
// one Chart of Charts in the given fonts (nil means DefaultFonts);
// WriteCharts writes them all into a directory as NAME.png and NAME.svg;
// RenderChart draws one for the screen (see Live charts).
// RerunCommand gives the command line that runs a result again; FormatValue
// and FormatStat format figures as the report prints them.
//
// Errors are wrapped with %w, so a failing writer's error can be matched
// with errors.Is. An empty result (no series, no figures) renders without
// charts rather than failing.
package export
