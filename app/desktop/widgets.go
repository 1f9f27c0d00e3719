package desktop

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// showLine shows text in a label that is hidden while it has nothing to
// say (a view's error line), and leaves it alone when nothing changes, so
// that a refresh each frame costs nothing.
func showLine(l *widget.Label, text string) {
	if text == l.Text && (text == "") == l.Hidden {
		return
	}
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

// newHeaderLabel is a table's header cell: bold, cut with an ellipsis
// when its column is narrow.
func newHeaderLabel() fyne.CanvasObject {
	l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}
