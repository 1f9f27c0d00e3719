package export

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/font/sfnt"
)

// The font files the report embeds, and where Debian installs them.
const (
	RegularFontFile = "DejaVuSans.ttf"
	BoldFontFile    = "DejaVuSans-Bold.ttf"
	CJKFontFile     = "DroidSansFallbackFull.ttf"
)

// DefaultFontDirs are the directories searched after $STORMGLASS_FONTS.
var DefaultFontDirs = []string{
	"/usr/share/fonts/truetype/dejavu",
	"/usr/share/fonts/truetype/droid",
}

// FontsEnv names the environment variable holding an extra font directory,
// searched first.
const FontsEnv = "STORMGLASS_FONTS"

// Fonts are the TrueType fonts embedded in a report: DejaVu Sans for Latin,
// Greek, Cyrillic and symbols, and Droid Sans Fallback for Chinese, Japanese
// and Korean. Text is split into runs by which font has each character.
type Fonts struct {
	Regular, Bold, CJK []byte
	// Paths are the files the fonts were read from, for messages.
	RegularPath, BoldPath, CJKPath string

	// Parsed, for coverage and for the charts' font cache.
	regular, bold, cjk *sfnt.Font
}

// FontSearch says where FindFonts looks.
type FontSearch struct {
	// EnvDir is searched first (DefaultFonts passes $STORMGLASS_FONTS);
	// empty means none.
	EnvDir string
	// Dirs are searched next, in order; nil means DefaultFontDirs.
	Dirs []string
}

// DefaultFonts finds the report's fonts in $STORMGLASS_FONTS and then in
// DefaultFontDirs.
func DefaultFonts() (*Fonts, error) {
	return FindFonts(FontSearch{EnvDir: os.Getenv(FontsEnv)})
}

// FindFonts reads the three font files from the first directory that holds
// each. When one is missing, the error names every path searched and the
// Debian packages that install them.
func FindFonts(s FontSearch) (*Fonts, error) {
	dirs := s.Dirs
	if dirs == nil {
		dirs = DefaultFontDirs
	}
	if s.EnvDir != "" {
		dirs = append([]string{s.EnvDir}, dirs...)
	}
	f := &Fonts{}
	var missing []string
	for _, want := range []struct {
		file string
		data *[]byte
		path *string
	}{
		{RegularFontFile, &f.Regular, &f.RegularPath},
		{BoldFontFile, &f.Bold, &f.BoldPath},
		{CJKFontFile, &f.CJK, &f.CJKPath},
	} {
		var tried []string
		for _, d := range dirs {
			p := filepath.Join(d, want.file)
			b, err := os.ReadFile(p)
			if err == nil {
				*want.data, *want.path = b, p
				break
			}
			if !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("export: reading font: %w", err)
			}
			tried = append(tried, p)
		}
		if *want.data == nil {
			missing = append(missing, fmt.Sprintf("%s (searched %s)", want.file, strings.Join(tried, ", ")))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("export: %w: %s; install the Debian packages fonts-dejavu-core and fonts-droid-fallback, or put the files in the directory named by $%s",
			ErrFontsMissing, strings.Join(missing, "; "), FontsEnv)
	}
	if err := f.parse(); err != nil {
		return nil, err
	}
	return f, nil
}

// ErrFontsMissing is wrapped by FindFonts's error when a font file is not
// found.
var ErrFontsMissing = errors.New("report fonts not found")

func (f *Fonts) parse() error {
	if f.regular != nil {
		return nil
	}
	if len(f.Regular) == 0 || len(f.Bold) == 0 || len(f.CJK) == 0 {
		return fmt.Errorf("export: %w: a Fonts value needs Regular, Bold and CJK", ErrFontsMissing)
	}
	var err error
	var regular, bold, cjk *sfnt.Font
	if regular, err = sfnt.Parse(f.Regular); err != nil {
		return fmt.Errorf("export: parsing %s: %w", nameOr(f.RegularPath, RegularFontFile), err)
	}
	if bold, err = sfnt.Parse(f.Bold); err != nil {
		return fmt.Errorf("export: parsing %s: %w", nameOr(f.BoldPath, BoldFontFile), err)
	}
	if cjk, err = sfnt.Parse(f.CJK); err != nil {
		return fmt.Errorf("export: parsing %s: %w", nameOr(f.CJKPath, CJKFontFile), err)
	}
	// Set together, so that a failed parse leaves f unparsed rather than
	// half parsed.
	f.regular, f.bold, f.cjk = regular, bold, cjk
	return nil
}

// resolveFonts returns f parsed, or DefaultFonts() when f is nil.
func resolveFonts(f *Fonts) (*Fonts, error) {
	if f == nil {
		return DefaultFonts()
	}
	if err := f.parse(); err != nil {
		return nil, err
	}
	return f, nil
}

func nameOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// textRun is a stretch of text set in one font.
type textRun struct {
	text string
	cjk  bool
}

// runs splits s into runs by font: a character DejaVu Sans lacks and the
// CJK font has goes in the CJK font; everything else in DejaVu.
func (f *Fonts) runs(s string) []textRun {
	var out []textRun
	var buf sfnt.Buffer
	start, cur := 0, false
	for i, r := range s {
		c := false
		if r >= 0x80 {
			if g, err := f.regular.GlyphIndex(&buf, r); err != nil || g == 0 {
				if g2, err := f.cjk.GlyphIndex(&buf, r); err == nil && g2 != 0 {
					c = true
				}
			}
		}
		if i > 0 && c != cur {
			out = append(out, textRun{s[start:i], cur})
			start = i
		}
		cur = c
	}
	if start < len(s) {
		out = append(out, textRun{s[start:], cur})
	}
	return out
}
