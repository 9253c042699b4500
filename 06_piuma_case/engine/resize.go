package engine

// Pillow's Image.resize(size, BICUBIC, reducing_gap=3.0), with its
// arithmetic (libImaging/Resample.c, Reduce.c): the same pixels (tests compare).
// Hand-written, the Go-side pixel work being the lesson (x/image/draw's
// CatmullRom cost 3x the CPU when measured). An axis shrunk 6x or more is first reduced by
// int(ratio/3), averaging boxes: few weights for any shape (a 89,000,000 x 1
// PNG needs no gigabytes). RGBA is resized premultiplied: no colour bleeds.

import "math"

func bicubic(x float64) float64 { // Catmull-Rom
	const a = -0.5
	switch x = math.Abs(x); {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

const precisionBits = 32 - 8 - 2 // Pillow's: 8 bits a pixel, 2 of headroom for negative lobes

// resize returns m resized to w x h: m itself if it has that size, else a new
// image, and m is freed (an RGBA m was premultiplied in place).
func resize(m image, w, h int) (image, error) {
	if m.w == w && m.h == h {
		return m, nil
	}
	if m.bpp == 4 {
		premultiply(m.pix, false)
	}
	fx := max(1, int(float64(m.w)/float64(w)/3)) // reducing_gap=3.0
	fy := max(1, int(float64(m.h)/float64(h)/3))
	boxW, boxH := float32(float64(m.w)/float64(fx)), float32(float64(m.h)/float64(fy)) // C floats
	var err error
	if fx > 1 || fy > 1 {
		if m, err = reduce(m, fx, fy); err != nil {
			return m, err
		}
	}
	if m, err = resample(m, w, h, boxW, boxH); err == nil && m.bpp == 4 {
		premultiply(m.pix, true)
	}
	return m, err
}

// reduce is Pillow's ImagingReduce: each fx x fy box (the last ones partial)
// becomes its mean, rounded as Pillow does. m is freed.
func reduce(m image, fx, fy int) (image, error) {
	defer m.free()
	w, h, bpp := (m.w+fx-1)/fx, (m.h+fy-1)/fy, m.bpp
	out, err := newImage(w, h, bpp)
	for y := 0; err == nil && y < h; y++ {
		y0, y1 := y*fy, min(y*fy+fy, m.h)
		for x := 0; x < w; x++ {
			x0, x1 := x*fx, min(x*fx+fx, m.w)
			n := uint32((x1 - x0) * (y1 - y0))
			mult := uint32(float32(4294967296.0) / float32(256*n)) // division_UINT32(n, 8)
			for c := 0; c < bpp; c++ {
				sum := n / 2
				for yy := y0; yy < y1; yy++ {
					row := m.row(yy)
					for i := x0*bpp + c; i < x1*bpp; i += bpp {
						sum += uint32(row[i])
					}
				}
				out.pix[(y*w+x)*bpp+c] = byte((sum * mult) >> 24)
			}
		}
	}
	return out, err
}

// weights: output pixel i is the sum of bounds[2i+1] input pixels from
// bounds[2i], weighted by kk[i*ksize:] (zero past them). Go memory: a few
// int32s an output pixel.
type weights struct {
	bounds, kk []int32
	ksize      int
}

// coeffs is Pillow's precompute_coeffs and normalize_coeffs_8bpc: [0, in1) of
// an axis of inSize pixels made outSize.
func coeffs(inSize int, in1 float32, outSize int) weights {
	support := 2.0 // bicubic's
	scale := float64(in1) / float64(outSize)
	filterscale := max(scale, 1)
	support *= filterscale
	ksize := int(math.Ceil(support))*2 + 1
	wt := weights{make([]int32, 2*outSize), make([]int32, outSize*ksize), ksize}
	pre, inv := make([]float64, ksize), 1/filterscale
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		ww := 0.0
		for x := range pre[:xmax] {
			pre[x] = bicubic((float64(x+xmin) - center + 0.5) * inv)
			ww += pre[x]
		}
		k := wt.kk[xx*ksize : (xx+1)*ksize]
		for x, v := range pre[:xmax] {
			if ww != 0 {
				v /= ww
			}
			k[x] = int32(math.Copysign(0.5, v) + v*(1<<precisionBits)) // Pillow's ±0.5, then C's truncation
		}
		wt.bounds[2*xx], wt.bounds[2*xx+1] = int32(xmin), int32(xmax)
	}
	return wt
}

func clip8(v int32) byte { return byte(min(max(v>>precisionBits, 0), 255)) } // Pillow's

// resample is Pillow 13's ImagingResampleInner: a horizontal pass then a
// vertical one; vertical first if the height shrinks over twice as much as the
// width (Pillow 12: always horizontal first, some pixels one level apart). src
// is freed, unless no pass is needed.
func resample(src image, w, h int, boxW, boxH float32) (image, error) {
	hw := coeffs(src.w, boxW, w)
	vw := coeffs(src.h, boxH, h)
	needH := w != src.w || boxW != float32(w)
	needV := h != src.h || boxH != float32(h)
	hFirst := !(src.h-h > 0 && src.h-h > (src.w-w)*2)
	out, err := src, error(nil)
	if needH && hFirst { // on the rows the vertical pass reads, and only those
		first, last := int(vw.bounds[0]), int(vw.bounds[2*h-2]+vw.bounds[2*h-1])
		for i := 0; i < h; i++ {
			vw.bounds[2*i] -= int32(first)
		}
		out, err = horizontal(out, w, first, last, hw)
	}
	if needV && err == nil {
		out, err = vertical(out, h, vw)
	}
	if needH && !hFirst && err == nil {
		out, err = horizontal(out, w, 0, h, hw)
	}
	return out, err
}

// horizontal resizes rows first..last of in to w pixels, and frees in. A loop
// per pixel size, its conditions proving the indices (no bounds checks): gray
// a tap at a time (unrolled was 20% slower), colour four (a channel loop was 2.3x).
func horizontal(in image, w, first, last int, wt weights) (image, error) {
	defer in.free()
	out, err := newImage(w, last-first, in.bpp)
	const half = int32(1) << (precisionBits - 1)
	bounds, kk, ksize, bpp := wt.bounds, wt.kk, wt.ksize, in.bpp // registers (the defer pins in)
	for y := 0; err == nil && y < out.h; y++ {
		src, dst := in.row(first+y), out.row(y)
		for xx := 0; xx < w; xx++ {
			k := kk[xx*ksize : xx*ksize+int(bounds[2*xx+1])]
			p := src[int(bounds[2*xx])*bpp:]
			s0, s1, s2, s3 := half, half, half, half
			switch bpp {
			case 1:
				p = p[:len(k)]
				for i, c := range k {
					s0 += int32(p[i]) * c
				}
				dst[xx] = clip8(s0)
			case 3:
				for ; len(k) >= 4 && len(p) >= 12; k, p = k[4:], p[12:] {
					s0 += int32(p[0])*k[0] + int32(p[3])*k[1] + int32(p[6])*k[2] + int32(p[9])*k[3]
					s1 += int32(p[1])*k[0] + int32(p[4])*k[1] + int32(p[7])*k[2] + int32(p[10])*k[3]
					s2 += int32(p[2])*k[0] + int32(p[5])*k[1] + int32(p[8])*k[2] + int32(p[11])*k[3]
				}
				for ; len(k) >= 1 && len(p) >= 3; k, p = k[1:], p[3:] {
					s0, s1, s2 = s0+int32(p[0])*k[0], s1+int32(p[1])*k[0], s2+int32(p[2])*k[0]
				}
				o := dst[3*xx : 3*xx+3 : 3*xx+3]
				o[0], o[1], o[2] = clip8(s0), clip8(s1), clip8(s2)
			default:
				for ; len(k) >= 4 && len(p) >= 16; k, p = k[4:], p[16:] {
					s0 += int32(p[0])*k[0] + int32(p[4])*k[1] + int32(p[8])*k[2] + int32(p[12])*k[3]
					s1 += int32(p[1])*k[0] + int32(p[5])*k[1] + int32(p[9])*k[2] + int32(p[13])*k[3]
					s2 += int32(p[2])*k[0] + int32(p[6])*k[1] + int32(p[10])*k[2] + int32(p[14])*k[3]
					s3 += int32(p[3])*k[0] + int32(p[7])*k[1] + int32(p[11])*k[2] + int32(p[15])*k[3]
				}
				for ; len(k) >= 1 && len(p) >= 4; k, p = k[1:], p[4:] {
					s0, s1 = s0+int32(p[0])*k[0], s1+int32(p[1])*k[0]
					s2, s3 = s2+int32(p[2])*k[0], s3+int32(p[3])*k[0]
				}
				o := dst[4*xx : 4*xx+4 : 4*xx+4]
				o[0], o[1], o[2], o[3] = clip8(s0), clip8(s1), clip8(s2), clip8(s3)
			}
		}
	}
	return out, err
}

// vertical resizes in's columns to h pixels, and frees in: each output row sums
// whole input rows, four at a time (sequential memory; Pillow's integer sums).
func vertical(in image, h int, wt weights) (image, error) {
	defer in.free()
	out, err := newImage(in.w, h, in.bpp)
	row := in.w * in.bpp
	acc := make([]int32, row)
	for yy := 0; err == nil && yy < out.h; yy++ {
		ymin, n := int(wt.bounds[2*yy]), int(wt.bounds[2*yy+1])
		k := wt.kk[yy*wt.ksize : yy*wt.ksize+n]
		for i := range acc {
			acc[i] = 1 << (precisionBits - 1)
		}
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
	return out, err
}

// premultiply (or, undo, unpremultiply) RGBA in place as Pillow's RGBA <->
// RGBa conversions do: MULDIV255, and 255 * c / a.
func premultiply(pix []byte, undo bool) {
	for i := 0; i+4 <= len(pix); i += 4 {
		for a, c := uint32(pix[i+3]), i; c < i+3 && a != 255; c++ {
			if !undo {
				t := uint32(pix[c])*a + 128
				pix[c] = byte(((t >> 8) + t) >> 8)
			} else if a != 0 {
				pix[c] = byte(min(255, 255*uint32(pix[c])/a))
			}
		}
	}
}

// orient applies EXIF orientation o as ImageOps.exif_transpose does: m itself
// for 1, else a new image (5..8 swap the axes, then mirrors), and m is freed.
func orient(m image, o int) (image, error) {
	if o < 2 || o > 8 {
		return m, nil
	}
	defer m.free()
	nw, nh := m.w, m.h
	if o >= 5 {
		nw, nh = m.h, m.w
	}
	out, err := newImage(nw, nh, m.bpp)
	for y := 0; err == nil && y < m.h; y++ {
		for x := 0; x < m.w; x++ {
			dx, dy := x, y
			if o >= 5 {
				dx, dy = y, x
			}
			if o == 2 || o == 3 || o == 6 || o == 7 {
				dx = nw - 1 - dx
			}
			if o == 3 || o == 4 || o == 7 || o == 8 {
				dy = nh - 1 - dy
			}
			i, j := (y*m.w+x)*m.bpp, (dy*nw+dx)*m.bpp
			copy(out.pix[j:j+m.bpp], m.pix[i:i+m.bpp])
		}
	}
	return out, err
}
