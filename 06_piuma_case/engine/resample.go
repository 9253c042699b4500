package engine

import "math"

// A separable resampler on packed 8-bit pixels that uses Pillow's recipe
// for Image.resize(size, BICUBIC) (libImaging/Resample.c): the Catmull-Rom
// kernel (a = -0.5) widened by the scale factor when shrinking, so every
// source pixel counts, and the same fixed-point weights. Pillow runs the
// horizontal pass first; we run the vertical one first (its row-by-row loop
// is the fast one in Go, and it leaves the horizontal pass fewer rows), so
// the 8-bit intermediate image rounds differently: outputs differ from
// Pillow's by about a level, far below what JPEG changes.
//
// golang.org/x/image/draw's CatmullRom computes the same filter (see
// TestResampleMatchesXImageDraw), but in float64 through generic image
// types: in the first version of this engine it took more CPU than
// libjpeg-turbo's decode and encode together. `go test -bench Resize
// ./engine` measures both on a 2400x1600 photo.

// precisionBits as in Pillow: 32 - 8 (pixel) - 2 (headroom for negative lobes).
const precisionBits = 32 - 8 - 2

// raster is a packed image: w*h pixels of bpp bytes (1 gray, 3 RGB, 4 RGBA).
type raster struct {
	pix       []byte
	w, h, bpp int
}

func bicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	switch {
	case x < 1:
		return ((a+2)*x-(a+3))*x*x + 1
	case x < 2:
		return (((x-5)*x+8)*x - 4) * a
	}
	return 0
}

// resizeFilter is a resampling filter: its function and its support (the
// distance beyond which it is 0) before widening. filter.go has Lanczos.
type resizeFilter struct {
	f       func(float64) float64
	support float64
}

var filterBicubic = resizeFilter{bicubic, 2}

// kernel is the filter along one axis, as Pillow's precompute_coeffs has
// it. The weights of an output index are computed when needed, in chunks,
// instead of in one table of outSize x ksize entries: ksize grows with the
// scale factor, so such a table is proportional to the input axis (1.4 GB
// for a 89,000,000 x 1 PNG fitted in 300 pixels), not to the output.
type kernel struct {
	inSize, outSize int
	scale, sup, ss  float64
	ksize           int // taps of the widest output index
	f               func(float64) float64
}

// newKernel: the bicubic kernel (newKernelWith: any filter).
func newKernel(inSize, outSize int) kernel {
	return newKernelWith(inSize, outSize, filterBicubic)
}

func newKernelWith(inSize, outSize int, flt resizeFilter) kernel {
	scale := float64(inSize) / float64(outSize)
	filterscale := math.Max(scale, 1)
	sup := flt.support * filterscale
	return kernel{inSize: inSize, outSize: outSize, scale: scale, sup: sup,
		ss: 1 / filterscale, ksize: int(math.Ceil(sup))*2 + 1, f: flt.f}
}

// span returns the first input index, the number of taps and the sum of
// the raw weights of output index xx.
func (k *kernel) span(xx int) (xmin, n int, ww float64) {
	center := (float64(xx) + 0.5) * k.scale
	xmin = int(center - k.sup + 0.5)
	if xmin < 0 {
		xmin = 0
	}
	xmax := int(center + k.sup + 0.5)
	if xmax > k.inSize {
		xmax = k.inSize
	}
	n = xmax - xmin
	for x := 0; x < n; x++ {
		ww += k.f((float64(x+xmin) - center + 0.5) * k.ss)
	}
	return xmin, n, ww
}

// weights fills dst with the fixed-point weights of taps from..from+len(dst)
// of output index xx, whose span is xmin, ww.
func (k *kernel) weights(xx, xmin int, ww float64, from int, dst []int32) {
	center := (float64(xx) + 0.5) * k.scale
	for i := range dst {
		w := k.f((float64(from+i+xmin) - center + 0.5) * k.ss)
		if ww != 0 {
			w /= ww
		}
		if w < 0 {
			dst[i] = int32(-0.5 + w*(1<<precisionBits))
		} else {
			dst[i] = int32(0.5 + w*(1<<precisionBits))
		}
	}
}

// maxTableEntries bounds the one table of weights the horizontal pass
// keeps (it reuses them on every row): 4 MiB. Beyond, it computes them per
// output column.
const maxTableEntries = 1 << 20

// coeffs returns, for every output index, the first input index, the
// number of taps, and ksize fixed-point weights per output index
// (bicubic; coeffsWith: any filter).
func coeffs(inSize, outSize int) (bounds []int, kk []int32, ksize int) {
	return coeffsWith(inSize, outSize, filterBicubic)
}

func coeffsWith(inSize, outSize int, flt resizeFilter) (bounds []int, kk []int32, ksize int) {
	k := newKernelWith(inSize, outSize, flt)
	ksize = k.ksize
	bounds = make([]int, 2*outSize)
	kk = make([]int32, outSize*ksize)
	for xx := 0; xx < outSize; xx++ {
		xmin, n, ww := k.span(xx)
		k.weights(xx, xmin, ww, 0, kk[xx*ksize:xx*ksize+n])
		bounds[2*xx], bounds[2*xx+1] = xmin, n
	}
	return bounds, kk, ksize
}

func clip8(v int32) byte {
	if v >= 1<<precisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return byte(v >> precisionBits)
}

// resample returns src scaled to tw x th (bicubic, as Pillow).
func resample(src raster, tw, th int) raster {
	return resampleWith(src, tw, th, filterBicubic)
}

// resampleWith returns src scaled to tw x th with the given filter.
func resampleWith(src raster, tw, th int, flt resizeFilter) raster {
	if src.w == tw && src.h == th {
		return src
	}
	out := src
	if bigTable(src.w, tw) || bigTable(src.h, th) { // whatever the filter, as Python decides
		if k := src.h / th / 3; k > 1 {
			out = reduceRows(out, k)
		}
		if k := src.w / tw / 3; k > 1 {
			out = reduceColumns(out, k)
		}
	}
	if out.h != th {
		out = verticalWith(out, th, flt)
	}
	if out.w != tw {
		out = horizontalWith(out, tw, flt)
	}
	return out
}

// bigTable: for an extreme reduction (a 89,000,000-pixel line into 300)
// each output pixel weighs millions of input pixels, which costs seconds.
// Where Pillow's table of weights for an axis would pass 4 MiB (an axis of
// more than 131,072 pixels that is reduced), the Python engine resizes with
// reducing_gap=3.0, and so does this engine: both axes are first reduced
// by an integer factor, averaging boxes of pixels, to at least three times
// the target; the bicubic pass does the rest. Photos never come near.
func bigTable(in, out int) bool {
	return in > out && int64(out)*int64(newKernel(in, out).ksize)*8 > 4<<20
}

// reduceColumns averages every k columns (the last box may be narrower).
func reduceColumns(src raster, k int) raster {
	w := (src.w + k - 1) / k
	bpp := src.bpp
	dst := raster{pix: make([]byte, w*src.h*bpp), w: w, h: src.h, bpp: bpp}
	for y := 0; y < src.h; y++ {
		row := src.pix[y*src.w*bpp : (y+1)*src.w*bpp]
		for x := 0; x < w; x++ {
			n := min(k, src.w-x*k)
			for c := 0; c < bpp; c++ {
				sum := 0
				for i := 0; i < n; i++ {
					sum += int(row[(x*k+i)*bpp+c])
				}
				dst.pix[(y*w+x)*bpp+c] = byte((sum + n/2) / n)
			}
		}
	}
	return dst
}

// reduceRows averages every k rows (the last box may be shorter).
func reduceRows(src raster, k int) raster {
	h := (src.h + k - 1) / k
	row := src.w * src.bpp
	dst := raster{pix: make([]byte, row*h), w: src.w, h: h, bpp: src.bpp}
	sum := make([]int, row)
	for y := 0; y < h; y++ {
		n := min(k, src.h-y*k)
		for i := range sum {
			sum[i] = 0
		}
		for j := 0; j < n; j++ {
			for i, v := range src.pix[(y*k+j)*row : (y*k+j+1)*row] {
				sum[i] += int(v)
			}
		}
		for i, s := range sum {
			dst.pix[y*row+i] = byte((s + n/2) / n)
		}
	}
	return dst
}

func horizontal(src raster, tw int) raster { return horizontalWith(src, tw, filterBicubic) }

func horizontalWith(src raster, tw int, flt resizeFilter) raster {
	if k := newKernelWith(src.w, tw, flt); int64(tw)*int64(k.ksize) > maxTableEntries {
		return horizontalStream(src, tw, k)
	}
	bounds, kk, ksize := coeffsWith(src.w, tw, flt)
	bpp := src.bpp
	dst := raster{pix: make([]byte, tw*src.h*bpp), w: tw, h: src.h, bpp: bpp}
	const half = int32(1) << (precisionBits - 1)
	for y := 0; y < src.h; y++ {
		in := src.pix[y*src.w*bpp : (y+1)*src.w*bpp]
		out := dst.pix[y*tw*bpp : (y+1)*tw*bpp]
		for xx := 0; xx < tw; xx++ {
			xmin, n := bounds[2*xx], bounds[2*xx+1]
			k := kk[xx*ksize : xx*ksize+n]
			p := in[xmin*bpp : (xmin+n)*bpp]
			switch bpp {
			case 1: // the planes of colour JPEGs: four taps per iteration
				s := half
				i := 0
				for ; i+4 <= len(k); i += 4 {
					q, w := p[i:i+4:i+4], k[i:i+4:i+4]
					s += int32(q[0])*w[0] + int32(q[1])*w[1] + int32(q[2])*w[2] + int32(q[3])*w[3]
				}
				for ; i < len(k); i++ {
					s += int32(p[i]) * k[i]
				}
				out[xx] = clip8(s)
			case 3:
				s0, s1, s2 := half, half, half
				i := 0
				for ; i+4 <= len(k); i += 4 { // four taps per iteration
					w0, w1, w2, w3 := k[i], k[i+1], k[i+2], k[i+3]
					q := p[3*i : 3*i+12]
					s0 += int32(q[0])*w0 + int32(q[3])*w1 + int32(q[6])*w2 + int32(q[9])*w3
					s1 += int32(q[1])*w0 + int32(q[4])*w1 + int32(q[7])*w2 + int32(q[10])*w3
					s2 += int32(q[2])*w0 + int32(q[5])*w1 + int32(q[8])*w2 + int32(q[11])*w3
				}
				for ; i < len(k); i++ {
					q := p[3*i : 3*i+3]
					s0 += int32(q[0]) * k[i]
					s1 += int32(q[1]) * k[i]
					s2 += int32(q[2]) * k[i]
				}
				o := out[3*xx : 3*xx+3]
				o[0], o[1], o[2] = clip8(s0), clip8(s1), clip8(s2)
			default:
				s0, s1, s2, s3 := half, half, half, half
				i := 0
				for ; i+2 <= len(k); i += 2 { // two taps per iteration
					w0, w1 := k[i], k[i+1]
					q := p[4*i : 4*i+8]
					s0 += int32(q[0])*w0 + int32(q[4])*w1
					s1 += int32(q[1])*w0 + int32(q[5])*w1
					s2 += int32(q[2])*w0 + int32(q[6])*w1
					s3 += int32(q[3])*w0 + int32(q[7])*w1
				}
				if i < len(k) {
					q := p[4*i : 4*i+4]
					s0 += int32(q[0]) * k[i]
					s1 += int32(q[1]) * k[i]
					s2 += int32(q[2]) * k[i]
					s3 += int32(q[3]) * k[i]
				}
				o := out[4*xx : 4*xx+4]
				o[0], o[1], o[2], o[3] = clip8(s0), clip8(s1), clip8(s2), clip8(s3)
			}
		}
	}
	return dst
}

// weightChunk is how many weights are computed at a time.
const weightChunk = 256

func vertical(src raster, th int) raster { return verticalWith(src, th, filterBicubic) }

func verticalWith(src raster, th int, flt resizeFilter) raster {
	k := newKernelWith(src.h, th, flt)
	row := src.w * src.bpp
	dst := raster{pix: make([]byte, row*th), w: src.w, h: th, bpp: src.bpp}
	const half = int32(1) << (precisionBits - 1)
	acc := make([]int32, row)
	var chunk [weightChunk]int32
	for yy := 0; yy < th; yy++ {
		ymin, n, ww := k.span(yy)
		for i := range acc {
			acc[i] = half
		}
		for from := 0; from < n; from += weightChunk {
			c := chunk[:min(weightChunk, n-from)]
			k.weights(yy, ymin, ww, from, c)
			base := ymin + from
			// Row by row, four taps at a time: sequential memory access and
			// few loads/stores of the accumulators keep this loop tight.
			j := 0
			for ; j+4 <= len(c); j += 4 {
				r0 := src.pix[(base+j)*row : (base+j+1)*row]
				r1 := src.pix[(base+j+1)*row : (base+j+2)*row]
				r2 := src.pix[(base+j+2)*row : (base+j+3)*row]
				r3 := src.pix[(base+j+3)*row : (base+j+4)*row]
				w0, w1, w2, w3 := c[j], c[j+1], c[j+2], c[j+3]
				a := acc[:len(r0)]
				r1, r2, r3 = r1[:len(a)], r2[:len(a)], r3[:len(a)]
				for i, v := range r0 {
					a[i] += int32(v)*w0 + int32(r1[i])*w1 + int32(r2[i])*w2 + int32(r3[i])*w3
				}
			}
			for ; j < len(c); j++ {
				r0 := src.pix[(base+j)*row : (base+j+1)*row]
				a := acc[:len(r0)]
				w0 := c[j]
				for i, v := range r0 {
					a[i] += int32(v) * w0
				}
			}
		}
		out := dst.pix[yy*row : (yy+1)*row]
		for i, s := range acc {
			out[i] = clip8(s)
		}
	}
	return dst
}

// horizontalStream is horizontal for extreme reductions (a very wide image
// into a few columns): the weights of each output column are computed in
// chunks and applied to every row, with accumulators for one output column:
// memory proportional to the output.
func horizontalStream(src raster, tw int, k kernel) raster {
	bpp := src.bpp
	dst := raster{pix: make([]byte, tw*src.h*bpp), w: tw, h: src.h, bpp: bpp}
	const half = int32(1) << (precisionBits - 1)
	acc := make([]int32, src.h*bpp)
	var chunk [weightChunk]int32
	for xx := 0; xx < tw; xx++ {
		xmin, n, ww := k.span(xx)
		for i := range acc {
			acc[i] = half
		}
		for from := 0; from < n; from += weightChunk {
			c := chunk[:min(weightChunk, n-from)]
			k.weights(xx, xmin, ww, from, c)
			for y := 0; y < src.h; y++ {
				p := src.pix[(y*src.w+xmin+from)*bpp : (y*src.w+xmin+from+len(c))*bpp]
				a := acc[y*bpp : (y+1)*bpp]
				for i, w := range c {
					for ch := range a {
						a[ch] += int32(p[i*bpp+ch]) * w
					}
				}
			}
		}
		for y := 0; y < src.h; y++ {
			for ch := 0; ch < bpp; ch++ {
				dst.pix[(y*tw+xx)*bpp+ch] = clip8(acc[y*bpp+ch])
			}
		}
	}
	return dst
}

// premultiply / unpremultiply RGBA in place, as Pillow's RGBA <-> RGBa
// conversions do around a resize (so transparent pixels do not bleed their
// colour into the edges).
func premultiply(pix []byte) {
	for i := 0; i+4 <= len(pix); i += 4 {
		a := uint32(pix[i+3])
		if a == 255 {
			continue
		}
		for c := 0; c < 3; c++ {
			t := uint32(pix[i+c])*a + 128
			pix[i+c] = byte(((t >> 8) + t) >> 8)
		}
	}
}

func unpremultiply(pix []byte) {
	for i := 0; i+4 <= len(pix); i += 4 {
		a := uint32(pix[i+3])
		if a == 255 || a == 0 {
			continue
		}
		for c := 0; c < 3; c++ {
			pix[i+c] = byte(min(255, 255*uint32(pix[i+c])/a))
		}
	}
}
