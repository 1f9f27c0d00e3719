package desktop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"stormglass/app/history"
	"stormglass/app/jobs"
	"stormglass/app/runner"
	"stormglass/export"
	"stormglass/scenarios"
)

// exportKind is a kind of file an export writes.
type exportKind int

const (
	exportPDF     exportKind = iota // the capacity report
	exportFigures                   // the figures (and differences) as CSV
	exportSeries                    // one run's time series as CSV
	exportCharts                    // each chart as PNG, into a folder
	exportAll                       // every format, into a folder
)

// exportKinds describe the kinds as the export dialog offers them.
var exportKinds = []struct {
	kind  exportKind
	label string
	ext   string // "" for a folder
}{
	{exportPDF, "Capacity report (PDF)", ".pdf"},
	{exportFigures, "Figures (CSV)", ".csv"},
	{exportSeries, "Time series (CSV)", ".csv"},
	{exportCharts, "Charts (PNG, into a folder)", ""},
	{exportAll, "Everything: report, JSON, CSV, charts (into a folder)", ""},
}

// ErrNothingToExport is returned when there are no results to export.
var ErrNothingToExport = errors.New("nothing to export yet: replay a scenario, or run or open runs to compare")

// exportable is what File › Export exports: the replay's run so far on
// the Replay tab, else the results on the Compare tab, else the replay.
func (w *Window) exportable() (*jobs.Results, error) {
	replay := func() (*jobs.Results, error) {
		r, err := w.replay.Result()
		if err != nil {
			return nil, err
		}
		return &jobs.Results{Runs: []*runner.Result{r}}, nil
	}
	switch {
	case w.replay != nil && w.tabs.Selected() == w.replayTab:
		return replay()
	case w.shown != nil:
		return w.shown, nil
	case w.replay != nil:
		return replay()
	}
	return nil, ErrNothingToExport
}

// exportDialog asks what to export and where, then exports it.
func (w *Window) exportDialog() {
	res, err := w.exportable()
	if errors.Is(err, ErrNothingToExport) && w.job != nil {
		// A run is on its way: export it when it is done.
		w.exportAfterJob = true
		w.setStatus("The export dialog opens when the run in progress finishes.")
		return
	}
	if err != nil {
		w.showError(err)
		return
	}
	w.chooseExport(res)
}

// exportStored exports runs read back from history.
func (w *Window) exportStored(runs []*history.Run) {
	res, err := jobs.Stored(runs...)
	if err != nil {
		w.showError(err)
		return
	}
	w.chooseExport(res)
}

// chooseExport offers the kinds of file for res, then a save or folder
// dialog.
func (w *Window) chooseExport(res *jobs.Results) {
	var labels []string
	for _, k := range exportKinds {
		if k.kind == exportSeries && len(res.Runs) != 1 {
			continue // the series CSV holds one run; Everything writes both
		}
		labels = append(labels, k.label)
	}
	kinds := widget.NewRadioGroup(labels, nil)
	kinds.SetSelected(labels[0])
	what := widget.NewLabel(resultsTitle(res))
	what.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm("Export", "Choose where…", "Cancel", container.NewVBox(what, kinds), func(ok bool) {
		if !ok {
			return
		}
		for _, k := range exportKinds {
			if k.label == kinds.Selected {
				w.choosePath(res, k.kind, k.ext)
			}
		}
	}, w.win)
	d.Show()
}

// resultsTitle names results for a dialog: "reactive-outage-2025:
// incident and remediated".
func resultsTitle(res *jobs.Results) string {
	var vs []string
	for _, r := range res.Runs {
		vs = append(vs, r.Variant)
	}
	return res.Runs[0].Scenario + ": " + strings.Join(vs, " and ")
}

// choosePath shows the save dialog for a file, or the folder dialog for a
// folder, starting in the export folder, and exports there.
func (w *Window) choosePath(res *jobs.Results, kind exportKind, ext string) {
	start := listable(w.prefs.String(prefExportFolder))
	if ext == "" {
		d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
			if err != nil {
				w.showError(err)
				return
			}
			if u == nil {
				return
			}
			dir := u.Path()
			if kind == exportAll {
				dir = filepath.Join(dir, jobs.DefaultName(res, ""))
			}
			w.exportTo(res, kind, dir)
		}, w.win)
		if start != nil {
			d.SetLocation(start)
		}
		d.Show()
		return
	}
	w.saveDialog(jobs.DefaultName(res, ext), []string{ext}, prefExportFolder, func(path string) error {
		w.exportTo(res, kind, path)
		return nil
	})
}

// saveDialog asks where to save a file named name by default, with one of
// exts, starting in the folder the preference folderPref names, and hands
// the path to save. The dialog makes the file empty; save replaces it
// whole, and if save fails, the empty file is removed.
func (w *Window) saveDialog(name string, exts []string, folderPref string, save func(path string) error) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			w.showError(err)
			return
		}
		if wc == nil {
			return // cancelled
		}
		path := wc.URI().Path()
		wc.Close()
		if err := save(path); err != nil {
			cleanEmpty(path)
			w.showError(err)
		}
	}, w.win)
	d.SetFileName(name)
	d.SetFilter(storage.NewExtensionFileFilter(exts))
	if start := listable(w.prefs.String(folderPref)); start != nil {
		d.SetLocation(start)
	}
	d.Show()
}

// exportTo writes res as kind at path (a file, or a folder for charts and
// everything) as a job with progress.
func (w *Window) exportTo(res *jobs.Results, kind exportKind, path string) {
	fonts := w.fonts
	w.startJob("Exporting to "+path, func(ctx context.Context, progress func(float64)) (func(), error) {
		if fonts == nil && (kind == exportPDF || kind == exportCharts || kind == exportAll) {
			cleanEmpty(path)
			return nil, errors.New("the report's fonts are missing (make deps installs fonts-dejavu-core and fonts-droid-fallback)")
		}
		opt := jobs.WriteOptions{Fonts: fonts, Generated: time.Now(), Progress: func(done, total int) {
			if total > 0 {
				progress(float64(done) / float64(total))
			}
		}}
		var written string
		var err error
		switch kind {
		case exportPDF, exportFigures, exportSeries:
			f := map[exportKind]jobs.Format{exportPDF: jobs.PDF, exportFigures: jobs.FiguresCSV, exportSeries: jobs.SeriesCSV}[kind]
			err = jobs.WriteFile(path, func(wr io.Writer) error { return jobs.Encode(wr, f, res, opt) })
			written = filepath.Base(path)
		case exportCharts:
			var files []string
			if err = jobs.CheckDir(path); err == nil {
				files, err = export.WriteCharts(path, []string{"png"}, fonts, res.Runs...)
			}
			written = fmt.Sprintf("%d charts", len(files))
		case exportAll:
			var files []string
			files, err = jobs.WriteDir(path, res, opt)
			written = fmt.Sprintf("%d files", len(files))
		}
		if err != nil {
			cleanEmpty(path)
			return nil, err
		}
		progress(1)
		return func() {
			w.setStatus(fmt.Sprintf("Wrote %s to %s.", written, path))
			w.prefs.SetString(prefLastExport, path)
		}, nil
	})
}

// prefLastExport is the last file or folder exported to.
const prefLastExport = "exports.last"

// cleanEmpty removes the empty file a save dialog made for an export that
// then failed, so a failure leaves nothing behind.
func cleanEmpty(path string) {
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() && st.Size() == 0 {
		os.Remove(path)
	}
}

// --- Save scenario ----------------------------------------------------

// saveScenarioDialog saves the scenario on the Replay tab, with the knobs
// set before its start, as a new variant in a YAML file.
func (w *Window) saveScenarioDialog() {
	if w.scenario == nil {
		w.showError(errors.New("no scenario to save: replay one first, then turn its knobs"))
		return
	}
	name := widget.NewEntry()
	name.SetText("tuned")
	title := widget.NewEntry()
	title.SetPlaceHolder("Optional: what this variant tries")
	items := []*widget.FormItem{
		{Text: "Variant name", Widget: name, HintText: "Lower case, digits and dashes"},
		{Text: "Title", Widget: title},
	}
	dialog.ShowForm("Save scenario as a new variant", "Choose file…", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		file := jobs.FileSafe(w.scenario.Meta.Name) + "-" + jobs.FileSafe(name.Text) + ".yaml"
		w.saveDialog(file, []string{".yaml", ".yml"}, prefScenarioFolder, func(path string) error {
			return w.saveScenarioTo(path, name.Text, title.Text)
		})
	}, w.win)
}

// saveScenarioTo writes the replayed scenario to path with a variant
// name: the replay's variant with the start values on screen (knobs set
// before the start). With no knob changed, the file is a copy of the
// scenario. The file is then opened in the library.
func (w *Window) saveScenarioTo(path, name, title string) error {
	text, err := scenarios.SaveVariant(w.scenario, w.variant, name, title, w.plan.Values)
	copied := errors.Is(err, scenarios.ErrNothingChanged)
	switch {
	case copied:
		text = w.scenario.Text
	case err != nil:
		return fmt.Errorf("save scenario: %w", err)
	}
	if err := jobs.WriteFile(path, func(wr io.Writer) error { _, err := wr.Write(text); return err }); err != nil {
		return fmt.Errorf("save scenario: %w", err)
	}
	if err := w.library.OpenFile(path); err != nil {
		return fmt.Errorf("save scenario: the file written does not load: %w", err)
	}
	if copied {
		w.setStatus(fmt.Sprintf("Saved a copy of %s to %s: no knob differs from variant %s.", w.scenario.Meta.Name, path, w.variant))
	} else {
		w.setStatus(fmt.Sprintf("Saved %s with variant %s to %s.", w.scenario.Meta.Name, name, path))
	}
	return nil
}
