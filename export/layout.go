package export

import (
	"strings"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"

	"stormglass/app/runner"
)

// doc wraps fpdf with text that may mix scripts: each string is split into
// runs set in DejaVu Sans or, for CJK, Droid Sans Fallback, since an fpdf
// cell has one font.
type doc struct {
	pdf   *fpdf.Fpdf
	fonts *Fonts
	bold  bool
	size  float64 // points
	// diffs are the report's paired differences, nil without them or with
	// one run.
	diffs    map[string]*runner.Diff
	progress *progress
}

const (
	pageW, pageH = 210.0, 297.0
	margin       = 15.0
	contentW     = pageW - 2*margin
	footerSpace  = 15.0
)

func (d *doc) font(bold bool, size float64) {
	d.bold, d.size = bold, size
	d.pdf.SetFont("DejaVuSans", d.style(false), size)
}

func (d *doc) style(cjk bool) string {
	if d.bold && !cjk {
		return "B"
	}
	return ""
}

func (d *doc) setRunFont(r textRun) {
	if r.cjk {
		d.pdf.SetFont("DroidSansFallback", "", d.size)
	} else {
		d.pdf.SetFont("DejaVuSans", d.style(false), d.size)
	}
}

// width is s's width in the current font, in mm.
func (d *doc) width(s string) float64 {
	w := 0.0
	for _, r := range d.fonts.runs(s) {
		d.setRunFont(r)
		w += d.pdf.GetStringWidth(r.text)
	}
	d.font(d.bold, d.size)
	return w
}

// text writes s on one line in a box of width w and height h at (x, y),
// aligned "L", "C" or "R", vertically centred.
func (d *doc) text(x, y, w, h float64, s, align string) {
	tw := d.width(s)
	switch align {
	case "R":
		x += w - tw
	case "C":
		x += (w - tw) / 2
	}
	d.pdf.SetXY(x, y)
	for _, r := range d.fonts.runs(s) {
		d.setRunFont(r)
		rw := d.pdf.GetStringWidth(r.text)
		d.pdf.CellFormat(rw, h, r.text, "", 0, "L", false, 0, "")
	}
	d.font(d.bold, d.size)
}

// lineH is the line height for the current size, in mm.
func (d *doc) lineH() float64 { return d.size * 0.3528 * 1.35 }

// wrap breaks s into lines no wider than w: at spaces, between CJK
// characters, and inside a word only when the word alone is too wide.
func (d *doc) wrap(s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		line := ""
		for _, tok := range tokens(para) {
			cand := line + tok
			if line != "" && d.width(strings.TrimRight(cand, " ")) > w {
				lines = append(lines, strings.TrimRight(line, " "))
				cand = strings.TrimLeft(tok, " ")
			}
			line = cand
			for utf8.RuneCountInString(line) > 1 && d.width(strings.TrimRight(line, " ")) > w {
				// A word wider than the line: cut it.
				cut := len(line)
				for cut > 0 {
					_, sz := utf8.DecodeLastRuneInString(line[:cut])
					cut -= sz
					if cut > 0 && d.width(line[:cut]) <= w {
						break
					}
				}
				if cut == 0 {
					_, cut = utf8.DecodeRuneInString(line)
				}
				lines = append(lines, line[:cut])
				line = line[cut:]
			}
		}
		lines = append(lines, strings.TrimRight(line, " "))
	}
	return lines
}

// tokens splits s into break units: words with their trailing spaces, and
// single wide (CJK) characters.
func tokens(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		switch {
		case r >= 0x2E80:
			if start < i {
				out = append(out, s[start:i])
			}
			out = append(out, string(r))
			start = i + utf8.RuneLen(r)
		case r == ' ':
			out = append(out, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// need starts a new page unless h mm fit above the footer.
func (d *doc) need(h float64) {
	if d.pdf.GetY()+h > pageH-footerSpace {
		d.pdf.AddPage()
	}
}

// para writes s wrapped to the content width at the current position.
func (d *doc) para(s string) {
	d.paraW(margin, contentW, s)
}

func (d *doc) paraW(x, w float64, s string) {
	lh := d.lineH()
	for _, l := range d.wrap(s, w) {
		d.need(lh)
		y := d.pdf.GetY()
		d.text(x, y, w, lh, l, "L")
		d.pdf.SetXY(margin, y+lh)
	}
}

func (d *doc) gap(h float64) { d.pdf.SetXY(margin, d.pdf.GetY()+h) }

func (d *doc) heading(s string) {
	d.need(20)
	d.gap(2)
	d.font(true, 14)
	d.pdf.SetTextColor(0x1f, 0x3a, 0x5f)
	d.para(s)
	d.pdf.SetTextColor(0, 0, 0)
	d.font(false, 10)
	d.gap(1.5)
}

func (d *doc) subheading(s string) {
	d.need(14)
	d.gap(1)
	d.font(true, 11)
	d.para(s)
	d.font(false, 10)
	d.gap(0.5)
}

// column of a table.
type column struct {
	title string
	w     float64 // mm
	align string
}

// rowStyle colours a row or a cell.
type rowStyle struct {
	fill  [3]int // 0,0,0 means none
	bold  bool
	cells map[int][3]int // per-cell fill
}

// table draws rows under a header repeated on each page; cells wrap.
func (d *doc) table(cols []column, rows [][]string, styles []rowStyle, size float64) {
	d.font(false, size)
	pad := 1.2
	lh := d.lineH()
	hasHeader := false
	for _, c := range cols {
		hasHeader = hasHeader || c.title != ""
	}
	header := func() {
		if !hasHeader {
			return
		}
		d.font(true, size)
		h := 0.0
		var wrapped [][]string
		for _, c := range cols {
			ls := d.wrap(c.title, c.w-2*pad)
			wrapped = append(wrapped, ls)
			h = max(h, float64(len(ls))*lh+2*pad)
		}
		d.need(h + lh + 2*pad)
		x, y := margin, d.pdf.GetY()
		d.pdf.SetFillColor(0x1f, 0x3a, 0x5f)
		d.pdf.SetTextColor(0xff, 0xff, 0xff)
		for i, c := range cols {
			d.pdf.Rect(x, y, c.w, h, "F")
			for j, l := range wrapped[i] {
				d.text(x+pad, y+pad+float64(j)*lh, c.w-2*pad, lh, l, c.align)
			}
			x += c.w
		}
		d.pdf.SetTextColor(0, 0, 0)
		d.pdf.SetXY(margin, y+h)
		d.font(false, size)
	}
	header()
	for ri, row := range rows {
		var st rowStyle
		if ri < len(styles) {
			st = styles[ri]
		}
		d.font(st.bold, size)
		h := 0.0
		var wrapped [][]string
		for i, c := range cols {
			cell := ""
			if i < len(row) {
				cell = row[i]
			}
			ls := d.wrap(cell, c.w-2*pad)
			wrapped = append(wrapped, ls)
			h = max(h, float64(len(ls))*lh+2*pad)
		}
		if d.pdf.GetY()+h > pageH-footerSpace {
			d.pdf.AddPage()
			header()
			d.font(st.bold, size)
		}
		x, y := margin, d.pdf.GetY()
		d.pdf.SetDrawColor(0xc8, 0xc8, 0xc8)
		d.pdf.SetLineWidth(0.2)
		for i, c := range cols {
			fill, ok := st.cells[i]
			if !ok {
				fill = st.fill
			}
			style := "D"
			if fill != [3]int{} {
				d.pdf.SetFillColor(fill[0], fill[1], fill[2])
				style = "FD"
			}
			d.pdf.Rect(x, y, c.w, h, style)
			for j, l := range wrapped[i] {
				d.text(x+pad, y+pad+float64(j)*lh, c.w-2*pad, lh, l, c.align)
			}
			x += c.w
		}
		d.pdf.SetXY(margin, y+h)
	}
	d.font(false, 10)
	d.gap(2)
}
