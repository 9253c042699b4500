package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A decoder for lossless JPEG (SOF3, ITU T.81 annex H), 8-bit samples.
// Pillow decodes these files with the libjpeg-turbo 3.x its wheels bundle;
// the libjpeg-turbo 2.1 of Debian 12 and Ubuntu 24.04 has no lossless mode
// (neither has image/jpeg), so without this the Go engine refused them.
// It does what libjpeg-turbo does: predictors 1 to 7, point transform,
// restart intervals, several scans; gray or RGB without subsampling, what
// libjpeg-turbo decodes for Pillow (jpegInfo.check refuses the rest in both
// engines). A damaged stream is an error, as on the other JPEG paths of
// this engine.

type losslessHuff struct {
	maxcode [18]int32 // largest code of each length, -1 if none
	valptr  [17]int32
	mincode [17]int32
	vals    []byte
	defined bool
}

func (t *losslessHuff) build(counts []byte, vals []byte) {
	t.vals, t.defined = vals, true
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		if n == 0 {
			t.maxcode[l] = -1
		} else {
			t.valptr[l], t.mincode[l] = k, code
			code += n
			k += n
			t.maxcode[l] = code - 1
		}
		code <<= 1
	}
	t.maxcode[17] = 1 << 30 // stops the search
}

var errLosslessData = errors.New("cannot decode JPEG: corrupt or truncated lossless JPEG data")

type bitReader struct {
	data []byte
	pos  int
	acc  uint32
	n    int
	hit  bool // reached a marker (or the end): no more data bits
}

func (b *bitReader) bit() (int32, error) {
	if b.n == 0 {
		if b.hit || b.pos >= len(b.data) {
			return 0, errLosslessData
		}
		c := b.data[b.pos]
		if c == 0xFF {
			if b.pos+1 >= len(b.data) {
				return 0, errLosslessData
			}
			if b.data[b.pos+1] != 0 {
				b.hit = true // a marker inside the data: truncated
				return 0, errLosslessData
			}
			b.pos++
		}
		b.pos++
		b.acc, b.n = uint32(c), 8
	}
	b.n--
	return int32(b.acc>>uint(b.n)) & 1, nil
}

func (b *bitReader) bits(s int) (int32, error) {
	v := int32(0)
	for i := 0; i < s; i++ {
		x, err := b.bit()
		if err != nil {
			return 0, err
		}
		v = v<<1 | x
	}
	return v, nil
}

func (b *bitReader) decode(t *losslessHuff) (int, error) {
	code := int32(0)
	for l := 1; l <= 16; l++ {
		x, err := b.bit()
		if err != nil {
			return 0, err
		}
		code = code<<1 | x
		if code <= t.maxcode[l] {
			i := t.valptr[l] + code - t.mincode[l]
			if int(i) >= len(t.vals) {
				return 0, errLosslessData
			}
			return int(t.vals[i]), nil
		}
	}
	return 0, errLosslessData
}

// restart skips to the byte boundary and over the expected RSTn marker.
func (b *bitReader) restart(n int) error {
	b.n, b.hit = 0, false
	if b.pos+1 >= len(b.data) || b.data[b.pos] != 0xFF || b.data[b.pos+1] != byte(0xD0+n%8) {
		return errLosslessData
	}
	b.pos += 2
	return nil
}

// decodeLossless decodes a lossless JPEG whose header info has already been
// checked (8-bit samples).
func decodeLossless(data []byte, info jpegInfo) (raster, error) {
	w, h, nc := info.width, info.height, len(info.comps)
	if nc != 1 && nc != 3 {
		return raster{}, fmt.Errorf("cannot decode JPEG: lossless JPEG with %d components is not supported", nc)
	}
	for _, c := range info.comps {
		if c.h != 1 || c.v != 1 {
			return raster{}, errors.New("cannot decode JPEG: lossless JPEG with subsampled components is not supported")
		}
	}
	planes := make([][]uint16, nc)
	for i := range planes {
		planes[i] = make([]uint16, w*h)
	}
	var tables [4]losslessHuff
	restartInterval := 0
	decoded := make([]bool, nc)
	pos := 2
	for pos < len(data) {
		if data[pos] != 0xFF { // junk between segments, as libjpeg tolerates
			pos++
			continue
		}
		if pos+1 >= len(data) {
			break
		}
		m := data[pos+1]
		pos += 2
		switch {
		case m == 0xFF || m == 0x00:
			pos-- // fill byte / junk
			continue
		case m == 0xD9: // end of image
			pos = len(data)
			continue
		case m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			continue
		}
		if pos+2 > len(data) {
			return raster{}, errLosslessData
		}
		n := int(binary.BigEndian.Uint16(data[pos:]))
		if n < 2 || pos+n > len(data) {
			return raster{}, errLosslessData
		}
		seg := data[pos+2 : pos+n]
		pos += n
		switch m {
		case 0xC4: // DHT
			for len(seg) >= 17 {
				class, id := seg[0]>>4, seg[0]&15
				total := 0
				for _, c := range seg[1:17] {
					total += int(c)
				}
				if id > 3 || len(seg) < 17+total || total > 256 {
					return raster{}, errors.New("cannot decode JPEG: damaged Huffman table")
				}
				if class == 0 {
					tables[id].build(seg[1:17], seg[17:17+total])
				}
				seg = seg[17+total:]
			}
		case 0xDD: // DRI
			if len(seg) >= 2 {
				restartInterval = int(binary.BigEndian.Uint16(seg))
			}
		case 0xDA: // SOS
			end, err := losslessScan(data, pos, seg, info, planes, &tables, restartInterval, decoded)
			if err != nil {
				return raster{}, err
			}
			pos = end
		}
	}
	for _, d := range decoded {
		if !d {
			return raster{}, errLosslessData
		}
	}
	return losslessColor(planes, info), nil
}

func losslessScan(data []byte, pos int, sos []byte, info jpegInfo, planes [][]uint16,
	tables *[4]losslessHuff, restartInterval int, decoded []bool) (int, error) {
	w, h := info.width, info.height
	if len(sos) < 1 || len(sos) < 1+2*int(sos[0])+3 || sos[0] == 0 {
		return 0, errors.New("cannot decode JPEG: damaged scan header")
	}
	ns := int(sos[0])
	comp := make([]int, ns)
	huff := make([]*losslessHuff, ns)
	for i := 0; i < ns; i++ {
		id, td := int(sos[1+2*i]), int(sos[2+2*i]>>4)
		comp[i] = -1
		for j, c := range info.comps {
			if c.id == id {
				comp[i] = j
			}
		}
		if comp[i] < 0 || td > 3 || !tables[td].defined {
			return 0, errors.New("cannot decode JPEG: damaged scan header")
		}
		huff[i] = &tables[td]
	}
	psv, pt := int(sos[1+2*ns]), int(sos[3+2*ns]&15)
	if psv < 1 || psv > 7 || pt >= info.precision {
		return 0, fmt.Errorf("cannot decode JPEG: invalid lossless predictor %d or point transform %d", psv, pt)
	}
	if restartInterval > 0 && restartInterval%w != 0 {
		return 0, errors.New("cannot decode JPEG: lossless restart interval is not a whole number of rows")
	}
	br := &bitReader{data: data, pos: pos}
	initial := int32(1) << uint(info.precision-pt-1)
	firstRow := true // the first row of the scan or of a restart interval
	rst, mcus := 0, 0
	for y := 0; y < h; y++ {
		if restartInterval > 0 && mcus > 0 && mcus%restartInterval == 0 {
			if err := br.restart(rst); err != nil {
				return 0, err
			}
			rst++
			firstRow = true
		}
		for x := 0; x < w; x++ {
			for i, ci := range comp {
				s, err := br.decode(huff[i])
				if err != nil {
					return 0, err
				}
				var diff int32
				switch {
				case s == 16:
					diff = 32768
				case s > 16:
					return 0, errLosslessData
				case s > 0:
					v, err := br.bits(s)
					if err != nil {
						return 0, err
					}
					if v < 1<<uint(s-1) {
						v += -(1 << uint(s)) + 1
					}
					diff = v
				}
				p := planes[ci]
				var pred int32
				switch {
				case firstRow && x == 0:
					pred = initial
				case firstRow:
					pred = int32(p[y*w+x-1])
				case x == 0:
					pred = int32(p[(y-1)*w])
				default:
					ra, rb, rc := int32(p[y*w+x-1]), int32(p[(y-1)*w+x]), int32(p[(y-1)*w+x-1])
					switch psv {
					case 1:
						pred = ra
					case 2:
						pred = rb
					case 3:
						pred = rc
					case 4:
						pred = ra + rb - rc
					case 5:
						pred = ra + (rb-rc)>>1
					case 6:
						pred = rb + (ra-rc)>>1
					case 7:
						pred = (ra + rb) >> 1
					}
				}
				p[y*w+x] = uint16((pred + diff) & 0xFFFF)
			}
		}
		mcus += w
		firstRow = false
	}
	for _, ci := range comp {
		decoded[ci] = true
		if pt > 0 {
			for i, v := range planes[ci] {
				planes[ci][i] = v << uint(pt)
			}
		}
	}
	// The scan ends at the next marker.
	end := br.pos
	for end+1 < len(data) && !(data[end] == 0xFF && data[end+1] != 0 && data[end+1] != 0xFF) {
		end++
	}
	return end, nil
}

// losslessColor packs the planes as gray or RGB (no colour conversion:
// jpegInfo.check has refused YCbCr).
func losslessColor(planes [][]uint16, info jpegInfo) raster {
	w, h, n := info.width, info.height, len(planes)
	r := raster{pix: make([]byte, n*w*h), w: w, h: h, bpp: n}
	for c, p := range planes {
		for i, v := range p {
			r.pix[n*i+c] = byte(v)
		}
	}
	return r
}
