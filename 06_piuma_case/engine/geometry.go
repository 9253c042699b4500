package engine

// fit returns the output size of a w x h image that must fit inside
// maxW x maxH (0: no bound on that axis), keeping the aspect ratio and never
// upscaling. Integer arithmetic, rounding halves up, so that the Python
// engine computes exactly the same size (piuma/_common.py).
func fit(w, h, maxW, maxH int) (int, int) {
	if maxW <= 0 || maxW > w {
		maxW = 0
	}
	if maxH <= 0 || maxH > h {
		maxH = 0
	}
	switch {
	case maxW == 0 && maxH == 0:
		return w, h
	case maxH == 0 || (maxW != 0 && int64(maxW)*int64(h) <= int64(maxH)*int64(w)):
		// width is the binding constraint
		return maxW, max(1, int((int64(h)*int64(maxW)+int64(w)/2)/int64(w)))
	default:
		return max(1, int((int64(w)*int64(maxH)+int64(h)/2)/int64(h))), maxH
	}
}

// draftDenom is the DCT scaling denominator (1, 2, 4 or 8) for decoding a
// w x h JPEG that will be resized to tw x th: the largest one that keeps the
// decoded image at least twice the target on both axes, so the resize filter
// still has enough pixels to work with. It is the choice Pillow's
// Image.draft(mode, (2*tw, 2*th)) makes.
func draftDenom(w, h, tw, th int) int {
	scale := min(w/(2*tw), h/(2*th))
	for _, d := range []int{8, 4, 2} {
		if scale >= d {
			return d
		}
	}
	return 1
}

// orientedSize is the size of a w x h image after EXIF orientation o.
func orientedSize(w, h, o int) (int, int) {
	if o >= 5 {
		return h, w
	}
	return w, h
}

// orient applies EXIF orientation o (2..8) to a raster. The resize happens
// before, on the stored orientation, so this moves the fewest pixels.
func orient(r raster, o int) raster {
	if o <= 1 || o > 8 {
		return r
	}
	w, h, bpp := r.w, r.h, r.bpp
	nw, nh := orientedSize(w, h, o)
	out := raster{pix: make([]byte, len(r.pix)), w: nw, h: nh, bpp: bpp}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirror horizontal
				dx, dy = w-1-x, y
			case 3: // rotate 180
				dx, dy = w-1-x, h-1-y
			case 4: // mirror vertical
				dx, dy = x, h-1-y
			case 5: // transpose
				dx, dy = y, x
			case 6: // rotate 90 clockwise
				dx, dy = h-1-y, x
			case 7: // transverse
				dx, dy = h-1-y, w-1-x
			case 8: // rotate 90 counter-clockwise
				dx, dy = y, w-1-x
			}
			d, s := (dy*nw+dx)*bpp, (y*w+x)*bpp
			copy(out.pix[d:d+bpp], r.pix[s:s+bpp])
		}
	}
	return out
}
