package desktop

import (
	"fmt"
	"image/color"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/BurntSushi/toml"

	"stormglass/app/runner"
)

// Preference keys. Fyne keeps them per app id, in the user's config
// directory.
const (
	prefTheme        = "theme"           // themeSystem, themeLight or themeDark
	prefExportFolder = "folders.exports" // where save dialogs start
	prefHistoryPath  = "history.path"    // the run history's database; "" is the default
)

// The themes a planner can pick: the desktop's own, or one forced, for a
// projector in a bright training room.
const (
	themeSystem = "System"
	themeLight  = "Light"
	themeDark   = "Dark"
)

// shortcut is a menu item's key with the platform's usual modifier (Ctrl,
// or Cmd on macOS).
func shortcut(key fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault}
}

// menuItem is a menu item with its shortcut.
func menuItem(label string, key fyne.KeyName, action func()) *fyne.MenuItem {
	it := fyne.NewMenuItem(label, action)
	if key != "" {
		it.Shortcut = shortcut(key)
	}
	return it
}

// mainMenu is the window's menu bar; each item with a shortcut is also
// bound on the canvas by addShortcuts.
func (w *Window) mainMenu() *fyne.MainMenu {
	quit := menuItem("Quit", fyne.KeyQ, func() { w.Close(); w.app.Quit() })
	quit.IsQuit = true
	file := fyne.NewMenu("File",
		menuItem("Open scenario…", fyne.KeyO, func() {
			w.tabs.Select(w.libraryTab) // where the file opened shows
			w.library.ShowOpenDialog()
		}),
		menuItem("Save scenario as…", fyne.KeyS, w.saveScenarioDialog),
		menuItem("Export…", fyne.KeyE, w.exportDialog),
		fyne.NewMenuItemSeparator(),
		menuItem("Preferences…", fyne.KeyComma, w.preferencesDialog),
		fyne.NewMenuItemSeparator(),
		quit,
	)
	view := fyne.NewMenu("View",
		menuItem("Library", fyne.Key1, func() { w.tabs.Select(w.libraryTab) }),
		menuItem("Replay", fyne.Key2, func() { w.tabs.Select(w.replayTab) }),
		menuItem("Compare", fyne.Key3, func() { w.tabs.Select(w.compareTab) }),
		menuItem("History", fyne.Key4, func() { w.tabs.Select(w.histTab) }),
	)
	replay := fyne.NewMenu("Replay",
		menuItem("Play or pause", fyne.KeyP, w.playPause),
		menuItem("Step", fyne.KeyPeriod, w.step),
		menuItem("Restart", fyne.KeyR, w.restart),
		fyne.NewMenuItemSeparator(),
		menuItem("Run replications", fyne.KeyReturn, w.runReplications),
	)
	help := fyne.NewMenu("Help",
		fyne.NewMenuItem("Keyboard shortcuts", w.shortcutsDialog),
		fyne.NewMenuItem("About Stormglass", w.aboutDialog),
	)
	return fyne.NewMainMenu(file, view, replay, help)
}

// addShortcuts binds every menu item's shortcut on the canvas, so that
// the keys work where the menu bar is not drawn by the window (the
// native menu of macOS binds them itself; binding twice is harmless).
func (w *Window) addShortcuts() {
	for _, m := range w.win.MainMenu().Items {
		for _, it := range m.Items {
			if it.Shortcut == nil || it.Action == nil {
				continue
			}
			action := it.Action
			w.win.Canvas().AddShortcut(it.Shortcut, func(fyne.Shortcut) { action() })
		}
	}
}

// playPause, step and restart drive the replay on screen, if any.
func (w *Window) playPause() {
	if w.replay != nil {
		w.replay.playTapped()
	}
}

func (w *Window) step() {
	if w.replay != nil {
		w.replay.stepTapped()
	}
}

func (w *Window) restart() {
	if w.replay != nil {
		w.replay.report(w.replay.player.Restart(nil))
	}
}

// shortcutsDialog lists the keyboard shortcuts, from the menus
// themselves so that the list cannot drift from them.
func (w *Window) shortcutsDialog() {
	rows := container.NewGridWithColumns(2)
	for _, m := range w.win.MainMenu().Items {
		for _, it := range m.Items {
			sc, ok := it.Shortcut.(*desktop.CustomShortcut)
			if !ok {
				continue
			}
			rows.Add(widget.NewLabel(m.Label + " › " + it.Label))
			rows.Add(widget.NewLabelWithStyle(shortcutText(sc), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}))
		}
	}
	dialog.ShowCustom("Keyboard shortcuts", "Close", rows, w.win)
}

// shortcutText is a shortcut as a person reads it: "Ctrl+O".
func shortcutText(sc *desktop.CustomShortcut) string {
	mod := "Ctrl+"
	if sc.Modifier&fyne.KeyModifierSuper != 0 {
		mod = "Cmd+"
	}
	key := string(sc.KeyName)
	switch sc.KeyName {
	case fyne.KeyComma:
		key = ","
	case fyne.KeyPeriod:
		key = "."
	case fyne.KeyReturn:
		key = "Enter"
	}
	return mod + key
}

// ParseMetadata reads the app's name, id, version and build from
// FyneApp.toml's [Details], the file the fyne packaging tool reads, so
// that the about box and a packaged release say the same. icon is the
// app's icon, as the file's Icon names it.
func ParseMetadata(fyneAppTOML, icon []byte) (fyne.AppMetadata, error) {
	var f struct {
		Details struct {
			Icon, Name, ID, Version string
			Build                   int
		}
		// Migrations opt into Fyne behaviour before it is the default:
		// fyneDo says every UI update from another goroutine goes
		// through fyne.Do, as this package's do does.
		Migrations map[string]bool
	}
	if _, err := toml.Decode(string(fyneAppTOML), &f); err != nil {
		return fyne.AppMetadata{}, fmt.Errorf("FyneApp.toml: %w", err)
	}
	d := f.Details
	if d.Name == "" || d.ID == "" || d.Version == "" {
		return fyne.AppMetadata{}, fmt.Errorf("FyneApp.toml: [Details] needs Name, ID and Version")
	}
	m := fyne.AppMetadata{ID: d.ID, Name: d.Name, Version: d.Version, Build: d.Build, Migrations: f.Migrations}
	if len(icon) > 0 {
		m.Icon = fyne.NewStaticResource("icon.png", icon)
	}
	return m, nil
}

// aboutDialog shows what this build is: the name, version and build from
// FyneApp.toml, the commit it was built from, and where the run history
// is.
func (w *Window) aboutDialog() {
	meta := w.app.Metadata()
	name := meta.Name
	if name == "" {
		name = "Stormglass"
	}
	title := widget.NewLabelWithStyle(name, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	lines := []string{"Replay real-time backend incidents and plan capacity."}
	if meta.Version != "" {
		lines = append(lines, fmt.Sprintf("Version %s (build %d)", meta.Version, meta.Build))
	}
	lines = append(lines, "Built from "+runner.Version())
	if meta.ID != "" {
		lines = append(lines, "App id "+meta.ID)
	}
	if w.store != nil {
		lines = append(lines, "Run history: "+w.store.Path())
	}
	box := container.NewVBox()
	if meta.Icon != nil {
		img := canvas.NewImageFromResource(meta.Icon)
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(fyne.NewSize(96, 96))
		box.Add(img)
	}
	box.Add(title)
	for _, l := range lines {
		lab := widget.NewLabelWithStyle(l, fyne.TextAlignCenter, fyne.TextStyle{})
		lab.Wrapping = fyne.TextWrapWord
		box.Add(lab)
	}
	d := dialog.NewCustom("About "+name, "Close", box, w.win)
	d.Resize(fyne.NewSize(480, 0))
	d.Show()
}

// preferencesDialog edits the theme and the default folders; they apply
// at once and are kept for the next start.
func (w *Window) preferencesDialog() {
	themes := widget.NewRadioGroup([]string{themeSystem, themeLight, themeDark}, nil)
	themes.Horizontal = true
	themes.SetSelected(w.prefs.StringWithFallback(prefTheme, themeSystem))
	scenarioDir := folderField(w, prefScenarioFolder)
	exportDir := folderField(w, prefExportFolder)
	historyPath := "the default location"
	if w.store != nil {
		historyPath = w.store.Path()
	}
	hist := widget.NewLabel(historyPath)
	hist.Wrapping = fyne.TextWrapBreak
	items := []*widget.FormItem{
		{Text: "Theme", Widget: themes},
		{Text: "Scenario folder", Widget: scenarioDir.object, HintText: "Where Open scenario starts"},
		{Text: "Export folder", Widget: exportDir.object, HintText: "Where reports and files are saved"},
		{Text: "Run history", Widget: hist},
	}
	d := dialog.NewForm("Preferences", "Save", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		w.setPreferences(themes.Selected, scenarioDir.entry.Text, exportDir.entry.Text)
	}, w.win)
	d.Resize(fyne.NewSize(640, 0))
	d.Show()
}

// setPreferences keeps and applies the preferences; a folder that does
// not exist is refused with the reason and nothing else changes.
func (w *Window) setPreferences(themeName, scenarioDir, exportDir string) error {
	for _, dir := range []string{scenarioDir, exportDir} {
		if dir == "" {
			continue
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			err := fmt.Errorf("preferences: %s is not a folder", dir)
			w.showError(err)
			return err
		}
	}
	w.prefs.SetString(prefTheme, themeName)
	w.prefs.SetString(prefScenarioFolder, scenarioDir)
	w.prefs.SetString(prefExportFolder, exportDir)
	applyTheme(w.app, themeName)
	w.setStatus("Preferences saved.")
	return nil
}

// folder is an entry for a folder with a button that picks one.
type folder struct {
	entry  *widget.Entry
	object fyne.CanvasObject
}

func folderField(w *Window, key string) folder {
	e := widget.NewEntry()
	e.SetText(w.prefs.String(key))
	e.SetPlaceHolder("Not set")
	pick := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() {
		d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				e.SetText(u.Path())
			}
		}, w.win)
		if loc := listable(e.Text); loc != nil {
			d.SetLocation(loc)
		}
		d.Show()
	})
	return folder{entry: e, object: container.NewBorder(nil, nil, nil, pick, e)}
}

// listable is dir as a dialog's starting location, or nil when it is not
// a folder.
func listable(dir string) fyne.ListableURI {
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil
	}
	l, err := storage.ListerForURI(storage.NewFileURI(dir))
	if err != nil {
		return nil
	}
	return l
}

// applyTheme sets the app's theme by name: the default, following the
// desktop, or one variant forced.
func applyTheme(a fyne.App, name string) {
	switch name {
	case themeLight:
		a.Settings().SetTheme(forcedTheme{Theme: theme.DefaultTheme(), variant: theme.VariantLight})
	case themeDark:
		a.Settings().SetTheme(forcedTheme{Theme: theme.DefaultTheme(), variant: theme.VariantDark})
	default:
		a.Settings().SetTheme(theme.DefaultTheme())
	}
}

// forcedTheme is a theme with its light or dark variant fixed, whatever
// the desktop asks for.
type forcedTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

// Color is part of fyne.Theme.
func (t forcedTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}
