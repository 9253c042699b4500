package engine

// The resize, hand-written because the Go-side pixel work is the lesson (and
// golang.org/x/image/draw's CatmullRom, the same filter in float64 through
// generic image types, costs about three times the CPU). It is Pillow's
// Image.resize(size, BICUBIC or LANCZOS, reducing_gap=3.0), step by step, with
// Pillow's arithmetic (libImaging/Resample.c, Reduce.c), so that both engines
// make the same pixels (tests compare with outputs Pillow made):
//
//   - reducing_gap: an axis shrunk 6x or more is first reduced by the integer
//     factor int(ratio/3), averaging boxes of pixels (Image.reduce; the last
//     box averages what it covers). The filter then resizes the fractional box
//     that is left, so its weights stay few for any shape: a 89,000,000 x 1
//     PNG needs no gigabytes of them.
//   - the filter: Catmull-Rom (a = -0.5) or a 3-lobe Lanczos, widened by the
//     scale when shrinking so that every source pixel counts; weights in fixed
//     point with 22 bits; the horizontal pass first (on the rows the vertical
//     pass needs only), then the vertical one, each rounding to 8 bits.
//   - RGBA is resized premultiplied (Pillow's RGBA -> RGBa -> RGBA), so that
//     transparent pixels never bleed their colour into the edges.

import (
	"math"
	"unsafe"
)

type filter struct {
	f       func(float64) float64
	support float64
}

var (
	bicubic = filter{func(x float64) float64 {
		const a = -0.5
		x = math.Abs(x)
		switch {
		case x < 1:
			return ((a+2)*x-(a+3))*x*x + 1
		case x < 2:
			return (((x-5)*x+8)*x - 4) * a
		}
		return 0
	}, 2}
	lanczos = filter{func(x float64) float64 {
		if -3 <= x && x < 3 {
			return sinc(x) * sinc(x/3)
		}
		return 0
	}, 3}
)

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// precisionBits as in Pillow: 32 - 8 (a pixel) - 2 (headroom for negative lobes).
const precisionBits = 32 - 8 - 2

// resize returns m resized to w x h, a new image (or m itself, when it has
// that size already). An RGBA m is premultiplied in place.
func resize(m image, w, h int, lanczosFilter bool) (image, error) {
	if m.w == w && m.h == h {
		return m, nil
	}
	flt := bicubic
	if lanczosFilter {
		flt = lanczos
	}
	if m.bpp == 4 {
		premultiply(m.pix)
	}
	box := [4]float32{0, 0, float32(m.w), float32(m.h)} // Pillow's box: C floats
	fx := max(1, int(float64(m.w)/float64(w)/3))        // reducing_gap=3.0
	fy := max(1, int(float64(m.h)/float64(h)/3))
	src := m
	if fx > 1 || fy > 1 {
		r, err := reduce(m, fx, fy)
		if err != nil {
			return image{}, err
		}
		defer r.free()
		src = r
		box = [4]float32{0, 0, float32(float64(m.w) / float64(fx)), float32(float64(m.h) / float64(fy))}
	}
	out, err := resample(src, w, h, box, flt)
	if err == nil && out.bpp == 4 {
		unpremultiply(out.pix)
	}
	return out, err
}

// reduce is Pillow's ImagingReduce: every fx x fy box of pixels becomes its
// mean, with Pillow's rounding ((sum + n/2) * (2^24/n as a float) >> 24).
func reduce(m image, fx, fy int) (image, error) {
	w, h, bpp := (m.w+fx-1)/fx, (m.h+fy-1)/fy, m.bpp
	out, err := newImage(w, h, bpp)
	if err != nil {
		return out, err
	}
	acc, err := calloc[uint32](w * bpp) // the sums of one output row
	if err != nil {
		out.free()
		return image{}, err
	}
	defer cfree(acc)
	for y := 0; y < h; y++ {
		clear(acc)
		y0, y1 := y*fy, min(y*fy+fy, m.h)
		for yy := y0; yy < y1; yy++ {
			row := m.pix[yy*m.w*bpp : (yy+1)*m.w*bpp]
			for x := 0; x < w; x++ {
				a := acc[x*bpp : (x+1)*bpp]
				box := row[x*fx*bpp : min(x*fx+fx, m.w)*bpp]
				for i := 0; i < len(box); i += bpp {
					for c := range a {
						a[c] += uint32(box[i+c])
					}
				}
			}
		}
		for x := 0; x < w; x++ {
			n := uint32((min(x*fx+fx, m.w) - x*fx) * (y1 - y0))
			mult := uint32(float32(4294967296.0) / float32(256*n)) // division_UINT32(n, 8)
			for c := 0; c < bpp; c++ {
				out.pix[(y*w+x)*bpp+c] = byte(((acc[x*bpp+c] + n/2) * mult) >> 24)
			}
		}
	}
	return out, nil
}

// coeffs is Pillow's precompute_coeffs then normalize_coeffs_8bpc, for the
// part [in0, in1) of an axis of inSize pixels made outSize: per output index,
// the first input index and the count (bounds), and ksize fixed-point weights.
// Both tables are C memory (cfree them).
func coeffs(inSize int, in0, in1 float32, outSize int, flt filter) (bounds, kk []int32, ksize int, err error) {
	scale := float64(in1-in0) / float64(outSize)
	filterscale := max(scale, 1)
	support := flt.support * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	if bounds, err = calloc[int32](2 * outSize); err != nil {
		return nil, nil, 0, err
	}
	if kk, err = calloc[int32](outSize * ksize); err != nil {
		cfree(bounds)
		return nil, nil, 0, err
	}
	pre := make([]float64, ksize)
	inv := 1 / filterscale
	for xx := 0; xx < outSize; xx++ {
		center := float64(in0) + (float64(xx)+0.5)*scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			pre[x] = flt.f((float64(x+xmin) - center + 0.5) * inv)
			ww += pre[x]
		}
		k := kk[xx*ksize : (xx+1)*ksize]
		for x := range k {
			v := 0.0
			if x < xmax {
				v = pre[x]
				if ww != 0 {
					v /= ww
				}
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = int32(xmin), int32(xmax)
	}
	return bounds, kk, ksize, nil
}

// clip8 is Pillow's: the 8-bit value of a fixed-point sum, clamped.
func clip8(v int32) byte {
	return byte(min(max(v>>precisionBits, 0), 255))
}

// resample is Pillow 13's ImagingResampleInner: the box of src to w x h,
// by a horizontal and a vertical pass. The horizontal one goes first (on the
// rows the vertical one reads), unless the height shrinks more than twice as
// much as the width: then the vertical pass first leaves it fewer rows.
// (Pillow 12 and older always go horizontal first: on such shapes they
// round some pixels one level differently.)
func resample(src image, w, h int, box [4]float32, flt filter) (out image, err error) {
	needH := w != src.w || box[0] != 0 || box[2] != float32(w)
	needV := h != src.h || box[1] != 0 || box[3] != float32(h)
	hFirst := !(src.h-h > 0 && src.h-h > (src.w-w)*2)
	var vb, vk, hb, hk []int32
	var vks, hks int
	if needV || (needH && hFirst) {
		if vb, vk, vks, err = coeffs(src.h, box[1], box[3], h, flt); err != nil {
			return image{}, err
		}
		defer cfree(vb)
		defer cfree(vk)
	}
	first, last := 0, h // the rows of the horizontal pass's input it resizes
	if needH {
		if hFirst {
			first, last = int(vb[0]), int(vb[2*h-2]+vb[2*h-1])
			for i := 0; i < h; i++ {
				vb[2*i] -= int32(first)
			}
		}
		if hb, hk, hks, err = coeffs(src.w, box[0], box[2], w, flt); err != nil {
			return image{}, err
		}
		defer cfree(hb)
		defer cfree(hk)
	}
	out = src // not ours: freed by no pass, copied if no pass runs
	horizontalPass := func() {
		if err == nil && needH {
			out, err = pass(out, src, w, last-first, func(dst, in image) { horizontal(dst, in, first, hb, hk, hks) })
		}
	}
	verticalPass := func() {
		if err == nil && needV {
			out, err = pass(out, src, out.w, h, func(dst, in image) { vertical(dst, in, vb, vk, vks) })
		}
	}
	if hFirst {
		horizontalPass()
		verticalPass()
	} else {
		verticalPass()
		horizontalPass()
	}
	if err == nil && !needH && !needV { // nothing to do but copy (a reduction did it all)
		out, err = pass(out, src, src.w, src.h, func(dst, in image) { copy(dst.pix, in.pix) })
	}
	return out, err
}

// pass runs one step of resample from in into a new w x h image, then frees
// in unless it is src (the caller's).
func pass(in, src image, w, h int, run func(dst, in image)) (image, error) {
	dst, err := newImage(w, h, in.bpp)
	if err == nil {
		run(dst, in)
	}
	if unsafe.SliceData(in.pix) != unsafe.SliceData(src.pix) {
		in.free()
	}
	return dst, err
}

// horizontal resizes the rows offset..offset+out.h of in into out. Four
// taps an iteration (two for RGBA), and slices that shrink as they are read:
// fewer bounds checks and loop steps in Go's compiled code (~20% here).
func horizontal(out, in image, offset int, bounds, kk []int32, ksize int) {
	bpp := in.bpp
	const half = int32(1) << (precisionBits - 1)
	for y := 0; y < out.h; y++ {
		src := in.pix[(y+offset)*in.w*bpp : (y+offset+1)*in.w*bpp]
		dst := out.pix[y*out.w*bpp : (y+1)*out.w*bpp]
		for xx := 0; xx < out.w; xx++ {
			xmin, n := int(bounds[2*xx]), int(bounds[2*xx+1])
			k := kk[xx*ksize : xx*ksize+n]
			p := src[xmin*bpp : (xmin+n)*bpp]
			switch bpp {
			case 1:
				s := half
				for len(k) >= 4 && len(p) >= 4 {
					s += int32(p[0])*k[0] + int32(p[1])*k[1] + int32(p[2])*k[2] + int32(p[3])*k[3]
					k, p = k[4:], p[4:]
				}
				for i := 0; i < len(k) && i < len(p); i++ {
					s += int32(p[i]) * k[i]
				}
				dst[xx] = clip8(s)
			case 3:
				s0, s1, s2 := half, half, half
				for len(k) >= 4 && len(p) >= 12 {
					w0, w1, w2, w3 := k[0], k[1], k[2], k[3]
					s0 += int32(p[0])*w0 + int32(p[3])*w1 + int32(p[6])*w2 + int32(p[9])*w3
					s1 += int32(p[1])*w0 + int32(p[4])*w1 + int32(p[7])*w2 + int32(p[10])*w3
					s2 += int32(p[2])*w0 + int32(p[5])*w1 + int32(p[8])*w2 + int32(p[11])*w3
					k, p = k[4:], p[12:]
				}
				for len(k) >= 1 && len(p) >= 3 {
					s0 += int32(p[0]) * k[0]
					s1 += int32(p[1]) * k[0]
					s2 += int32(p[2]) * k[0]
					k, p = k[1:], p[3:]
				}
				o := dst[3*xx : 3*xx+3 : 3*xx+3]
				o[0], o[1], o[2] = clip8(s0), clip8(s1), clip8(s2)
			default:
				s0, s1, s2, s3 := half, half, half, half
				for len(k) >= 2 && len(p) >= 8 {
					w0, w1 := k[0], k[1]
					s0 += int32(p[0])*w0 + int32(p[4])*w1
					s1 += int32(p[1])*w0 + int32(p[5])*w1
					s2 += int32(p[2])*w0 + int32(p[6])*w1
					s3 += int32(p[3])*w0 + int32(p[7])*w1
					k, p = k[2:], p[8:]
				}
				if len(k) >= 1 && len(p) >= 4 {
					s0 += int32(p[0]) * k[0]
					s1 += int32(p[1]) * k[0]
					s2 += int32(p[2]) * k[0]
					s3 += int32(p[3]) * k[0]
				}
				o := dst[4*xx : 4*xx+4 : 4*xx+4]
				o[0], o[1], o[2], o[3] = clip8(s0), clip8(s1), clip8(s2), clip8(s3)
			}
		}
	}
}

// vertical resizes in's columns into out, row by row: each output row is
// the weighted sum of whole input rows, accumulated in acc four input rows at
// a time (sequential memory, few loads and stores of the sums; integer sums,
// so the same result as Pillow's column by column).
func vertical(out, in image, bounds, kk []int32, ksize int) {
	row := in.w * in.bpp
	acc := make([]int32, row)
	for yy := 0; yy < out.h; yy++ {
		ymin, n := int(bounds[2*yy]), int(bounds[2*yy+1])
		for i := range acc {
			acc[i] = 1 << (precisionBits - 1)
		}
		k := kk[yy*ksize : yy*ksize+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			r0 := in.pix[(ymin+j)*row : (ymin+j+1)*row]
			r1 := in.pix[(ymin+j+1)*row : (ymin+j+2)*row]
			r2 := in.pix[(ymin+j+2)*row : (ymin+j+3)*row]
			r3 := in.pix[(ymin+j+3)*row : (ymin+j+4)*row]
			w0, w1, w2, w3 := k[j], k[j+1], k[j+2], k[j+3]
			a := acc[:len(r0)]
			r1, r2, r3 = r1[:len(a)], r2[:len(a)], r3[:len(a)]
			for i, v := range r0 {
				a[i] += int32(v)*w0 + int32(r1[i])*w1 + int32(r2[i])*w2 + int32(r3[i])*w3
			}
		}
		for ; j < n; j++ {
			r0 := in.pix[(ymin+j)*row : (ymin+j+1)*row]
			a, w0 := acc[:len(r0)], k[j]
			for i, v := range r0 {
				a[i] += int32(v) * w0
			}
		}
		dst := out.pix[yy*row : (yy+1)*row]
		for i, s := range acc {
			dst[i] = clip8(s)
		}
	}
}

// premultiply and unpremultiply RGBA in place, as Pillow's RGBA <-> RGBa
// conversions (MULDIV255, then 255 * c / a).
func premultiply(pix []byte) {
	for i := 0; i+4 <= len(pix); i += 4 {
		if a := uint32(pix[i+3]); a != 255 {
			for c := i; c < i+3; c++ {
				t := uint32(pix[c])*a + 128
				pix[c] = byte(((t >> 8) + t) >> 8)
			}
		}
	}
}

func unpremultiply(pix []byte) {
	for i := 0; i+4 <= len(pix); i += 4 {
		if a := uint32(pix[i+3]); a != 255 && a != 0 {
			for c := i; c < i+3; c++ {
				pix[c] = byte(min(255, 255*uint32(pix[c])/a))
			}
		}
	}
}

// orient applies EXIF orientation o (2..8) to m, into a new image (or returns
// m for 1): Pillow's transposes, as ImageOps.exif_transpose picks them.
func orient(m image, o int) (image, error) {
	if o < 2 || o > 8 {
		return m, nil
	}
	w, h, bpp := m.w, m.h, m.bpp
	nw, nh := w, h
	if o >= 5 {
		nw, nh = h, w
	}
	out, err := newImage(nw, nh, bpp)
	if err != nil {
		return out, err
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := x, y
			switch o {
			case 2: // mirror horizontal
				dx = w - 1 - x
			case 3: // rotate 180
				dx, dy = w-1-x, h-1-y
			case 4: // mirror vertical
				dy = h - 1 - y
			case 5: // transpose
				dx, dy = y, x
			case 6: // rotate 90 clockwise
				dx, dy = h-1-y, x
			case 7: // transverse
				dx, dy = h-1-y, w-1-x
			case 8: // rotate 90 counter-clockwise
				dx, dy = y, w-1-x
			}
			copy(out.pix[(dy*nw+dx)*bpp:(dy*nw+dx+1)*bpp], m.pix[(y*w+x)*bpp:(y*w+x+1)*bpp])
		}
	}
	return out, nil
}
