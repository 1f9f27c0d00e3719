//go:build ignore

// Icon_gen draws icon.png, the app icon: a storm glass (a sealed teardrop
// flask whose liquid grows fern-like crystals) on a navy tile.
//
// Every shape is a signed distance field, which gives antialiased edges
// without supersampling and keeps the program to the standard library, so
// regenerating the icon needs no tools. Run it from the repository root with
//
//	go run assets/icon_gen.go -o assets/icon.png
package main

//go:generate go run icon_gen.go -o icon.png

import (
	"flag"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

const size = 512

// Flask geometry: a teardrop is an "uneven capsule" between the body circle
// and a small circle at the tip.
var (
	body    = vec{256, 322}
	bodyR   = 136.0
	tip     = vec{256, 112}
	tipR    = 16.0
	liquidY = 222.0 // liquid surface
	wall    = 9.0   // glass thickness
)

type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec      { return vec{a.x - b.x, a.y - b.y} }
func (a vec) add(b vec) vec      { return vec{a.x + b.x, a.y + b.y} }
func (a vec) mul(k float64) vec  { return vec{a.x * k, a.y * k} }
func (a vec) dot(b vec) float64  { return a.x*b.x + a.y*b.y }
func (a vec) len() float64       { return math.Hypot(a.x, a.y) }
func polar(r, angle float64) vec { return vec{r * math.Cos(angle), r * math.Sin(angle)} }

// rgba is a premultiplied colour in [0,1].
type rgba struct{ r, g, b, a float64 }

func hex(c uint32, alpha float64) rgba {
	return rgba{
		float64(c>>16&0xff) / 255 * alpha,
		float64(c>>8&0xff) / 255 * alpha,
		float64(c&0xff) / 255 * alpha,
		alpha,
	}
}

func mix(a, b rgba, t float64) rgba {
	return rgba{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t, a.a + (b.a-a.a)*t}
}

// over composites src, scaled by coverage cov, onto dst.
func over(dst, src rgba, cov float64) rgba {
	if cov <= 0 {
		return dst
	}
	k := 1 - src.a*cov
	return rgba{src.r*cov + dst.r*k, src.g*cov + dst.g*k, src.b*cov + dst.b*k, src.a*cov + dst.a*k}
}

// fill turns a signed distance (negative inside) into pixel coverage.
func fill(d float64) float64 { return clamp(0.5-d, 0, 1) }

// stroke is the coverage of a line of width w centred on the zero contour.
func stroke(d, w float64) float64 { return fill(math.Abs(d) - w/2) }

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func smoothstep(e0, e1, x float64) float64 {
	t := clamp((x-e0)/(e1-e0), 0, 1)
	return t * t * (3 - 2*t)
}

func roundedBox(p, centre vec, half, r float64) float64 {
	q := vec{math.Abs(p.x-centre.x) - half + r, math.Abs(p.y-centre.y) - half + r}
	outside := vec{math.Max(q.x, 0), math.Max(q.y, 0)}.len()
	return outside + math.Min(math.Max(q.x, q.y), 0) - r
}

// unevenCapsule is Inigo Quilez's exact distance to the hull of two circles.
func unevenCapsule(p, a, b vec, ra, rb float64) float64 {
	ba := b.sub(a)
	l := ba.len()
	u := ba.mul(1 / l)
	v := vec{-u.y, u.x}
	q := p.sub(a)
	px, py := math.Abs(q.dot(v)), q.dot(u)
	c := (ra - rb) / l
	s := math.Sqrt(1 - c*c)
	k := -c*px + s*py // position along the tangent
	switch {
	case k < 0:
		return math.Hypot(px, py) - ra
	case k > s*l:
		return math.Hypot(px, py-l) - rb
	default:
		return s*px + c*py - ra
	}
}

func segment(p, a, b vec) float64 {
	pa, ba := p.sub(a), b.sub(a)
	h := clamp(pa.dot(ba)/ba.dot(ba), 0, 1)
	return pa.sub(ba.mul(h)).len()
}

func flask(p vec) float64 { return unevenCapsule(p, body, tip, bodyR, tipR) }

// A line segment with its width, for the crystals.
type line struct {
	a, b vec
	w    float64
}

// fern grows a feathery crystal: a stem from base, leaning by lean radians
// off vertical, with paired side branches that shorten towards the top.
func fern(base vec, height, lean float64) []line {
	dir := polar(1, -math.Pi/2+lean)
	top := base.add(dir.mul(height))
	out := []line{{base, top, 2.8}}
	const step = 10.0
	for t := step; t < height-3; t += step {
		frac := t / height
		n := math.Max((1-frac)*height*0.3, 5)
		for _, side := range []float64{-1, 1} {
			// Offset the pairs slightly: grown crystals are never symmetric.
			at := base.add(dir.mul(t + side*1.5))
			// Branches climb at ~50 degrees, like ammonium chloride feathers.
			b := polar(1, -math.Pi/2+lean+side*0.87)
			out = append(out, line{at, at.add(b.mul(n)), 1.6})
			// Twigs on the longer branches make the crystal look grown.
			if n > 14 {
				mid := at.add(b.mul(n * 0.5))
				twig := polar(1, -math.Pi/2+lean+side*0.3)
				out = append(out, line{mid, mid.add(twig.mul(n * 0.3)), 1.2})
			}
		}
	}
	return out
}

// star is a small six-armed crystal floating in the liquid.
func star(c vec, r float64) []line {
	var out []line
	for i := range 3 {
		d := polar(r, float64(i)*math.Pi/3+math.Pi/2)
		out = append(out, line{c.sub(d), c.add(d), 1.8})
	}
	return out
}

func crystals() []line {
	var ls []line
	ls = append(ls, fern(vec{258, 432}, 156, 0.02)...)
	ls = append(ls, fern(vec{200, 432}, 100, -0.26)...)
	ls = append(ls, fern(vec{314, 432}, 110, 0.24)...)
	ls = append(ls, star(vec{196, 252}, 8)...)
	ls = append(ls, star(vec{318, 244}, 6)...)
	ls = append(ls, star(vec{282, 236}, 4.5)...)
	return ls
}

func shade(p vec, cryst []line) rgba {
	var c rgba

	// Tile: a navy radial gradient, lighter behind the glass.
	tile := roundedBox(p, vec{256, 256}, 240, 96)
	if tile > 1 {
		return c
	}
	g := clamp(p.sub(vec{256, 300}).len()/330, 0, 1)
	bg := mix(hex(0x1a4a78, 1), hex(0x081630, 1), g)
	c = over(c, bg, fill(tile))
	// A faint rim keeps the tile readable on dark panels.
	c = over(c, hex(0x3c7fb3, 0.35), stroke(tile+1.5, 3))

	d := flask(p)

	// Glass body: a faint tint, brighter towards the walls as real glass is.
	if d < 1 {
		edge := math.Exp(d / 22)
		c = over(c, hex(0xbff6f2, 0.06+0.18*edge), fill(d))
	}

	// Liquid, inset from the glass, with a gently curved meniscus.
	inner := d + wall
	dx := (p.x - body.x) / bodyR
	surface := liquidY - 6*dx*dx
	if inner < 1 && p.y > surface-1 {
		cov := fill(inner) * clamp(p.y-surface+0.5, 0, 1)
		t := clamp((p.y-surface)/(body.y+bodyR-surface), 0, 1)
		liq := mix(hex(0x27b3ad, 0.88), hex(0x0b4f6b, 0.94), t)
		c = over(c, liq, cov)
		// Depth: darker towards the walls.
		c = over(c, hex(0x062a40, 0.35), cov*math.Exp(inner/14))
		// Meniscus highlight.
		c = over(c, hex(0xd6fffb, 0.7), cov*fill(math.Abs(p.y-surface)-1.2))

		// Sediment mound of settled crystals at the bottom.
		mound := 428 + 5*math.Sin(p.x/7.3) + 3*math.Sin(p.x/3.1+1) + 0.0009*math.Pow(p.x-body.x, 2)
		c = over(c, hex(0xe9fffc, 0.82), cov*clamp(p.y-mound+0.5, 0, 1))

		// Crystals, clipped to the liquid.
		var best float64
		for _, l := range cryst {
			best = math.Max(best, stroke(segment(p, l.a, l.b), l.w))
			if best >= 1 {
				break
			}
		}
		c = over(c, hex(0xeafffd, 0.9), cov*best*fill(inner+5))
	}

	// Specular streak following the left wall, fading at both ends.
	if p.x < body.x-12 {
		fade := smoothstep(150, 215, p.y) * (1 - smoothstep(330, 410, p.y))
		c = over(c, hex(0xffffff, 0.55), fade*stroke(d+20, 7))
	}
	// A shorter, dimmer reflection on the right, as if lit from the left.
	if p.x > body.x+40 {
		fade := smoothstep(330, 360, p.y) * (1 - smoothstep(395, 425, p.y))
		c = over(c, hex(0xffffff, 0.3), fade*stroke(d+18, 5))
	}

	// Glass outline.
	c = over(c, hex(0x9deee8, 0.95), stroke(d+3, 6))

	// Hanging ring and the neck that joins it to the tip.
	ringC := vec{256, 66}
	ring := p.sub(ringC).len() - 22
	c = over(c, hex(0x9deee8, 0.95), stroke(ring, 7))
	c = over(c, hex(0x9deee8, 0.95), stroke(segment(p, vec{256, 88}, vec{256, 100}), 7))
	return c
}

func main() {
	out := flag.String("o", "icon.png", "output file")
	flag.Parse()

	cryst := crystals()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			c := shade(vec{float64(x) + 0.5, float64(y) + 0.5}, cryst)
			img.SetRGBA(x, y, color.RGBA{
				uint8(math.Round(clamp(c.r, 0, 1) * 255)),
				uint8(math.Round(clamp(c.g, 0, 1) * 255)),
				uint8(math.Round(clamp(c.b, 0, 1) * 255)),
				uint8(math.Round(clamp(c.a, 0, 1) * 255)),
			})
		}
	}

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
