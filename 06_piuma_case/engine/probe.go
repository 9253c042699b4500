package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// The header of a file is read before the file itself: its size decides
// whether the file may be read and decoded at all (max_pixels, the memory
// budget). These probes read only the few bytes they need, through an
// io.ReaderAt, and describe what they found in plain words when the header
// is damaged. piuma/_probe.py does the same for the Python engine, with the
// same messages, so that both engines refuse the same files alike.

// jpegComponent is one colour component of a JPEG frame.
type jpegComponent struct {
	id, h, v int // component identifier, horizontal and vertical sampling factors
}

// jpegInfo is what a JPEG's markers say before its first scan.
type jpegInfo struct {
	width, height int
	precision     int  // bits per sample
	sof           byte // frame marker: 0xC0 baseline ... 0xC3 lossless ...
	comps         []jpegComponent
	jfif          bool // an APP0 "JFIF" segment
	adobe         bool // an APP14 "Adobe" segment ...
	transform     int  // ... and its colour transform flag
}

func (j *jpegInfo) progressive() bool {
	return j.sof == 0xC2 || j.sof == 0xC6 || j.sof == 0xCA || j.sof == 0xCE
}

// The markers Pillow's JPEG parser knows (JpegImagePlugin.MARKER), and
// whether a length-prefixed segment follows them. Any other marker before
// the first scan makes the file unreadable for Pillow: the probe refuses
// it in both engines.
func jpegMarkerKnown(m byte) (known, segment bool) {
	switch {
	case m >= 0xC0 && m <= 0xCF && m != 0xC8: // SOFn, DHT, DAC
		return true, true
	case m == 0xC8 || (m >= 0xD0 && m <= 0xD9) || (m >= 0xF0 && m <= 0xFD): // JPG, RSTn, SOI, EOI, JPGn
		return true, false
	case m >= 0xDA && m <= 0xDF, m >= 0xE0 && m <= 0xEF, m == 0xFE: // SOS..EXP, APPn, COM
		return true, true
	}
	return false, false
}

// maxJunk is how many bytes between two segments the probe skips looking
// for the next marker (Pillow and libjpeg skip any number): enough for
// padding, not a walk through gigabytes of zeros.
const maxJunk = 64 << 10

var errTruncatedJPEGHeader = errors.New("cannot decode JPEG: the file ends before the image header (truncated)")

// probeJPEG walks the markers the way Pillow does (junk between segments
// is skipped), up to the first scan, and returns the frame header.
func probeJPEG(r io.ReaderAt, size int64) (jpegInfo, error) {
	return walkJPEG(r, size, nil)
}

// walkJPEG is probeJPEG that also hands every APPn segment (a fresh slice)
// to visit, when visit is not nil.
func walkJPEG(r io.ReaderAt, size int64, visit func(marker byte, seg []byte)) (jpegInfo, error) {
	if size < 2 {
		return jpegInfo{}, errTruncatedJPEGHeader
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, 2, size-2), 4096) // after SOI
	var info jpegInfo
	seenSOF := false
	next := func() (byte, error) {
		b, err := br.ReadByte()
		if err == io.EOF {
			return 0, errTruncatedJPEGHeader
		}
		return b, err
	}
	b, err := next()
	junk := 0
	for {
		if err != nil {
			return info, err
		}
		if b != 0xFF { // junk before a marker: skipped, as Pillow does, up to a point
			if junk++; junk > maxJunk {
				return info, errors.New("cannot decode JPEG: no marker where the header continues (damaged header)")
			}
			b, err = next()
			continue
		}
		junk = 0
		var m byte
		if m, err = next(); err != nil {
			return info, err
		}
		switch m {
		case 0xFF: // fill byte
			b = 0xFF
			continue
		case 0x00: // an escaped 0xFF: junk
			b, err = next()
			continue
		}
		known, segment := jpegMarkerKnown(m)
		if !known {
			return info, fmt.Errorf("cannot decode JPEG: unknown marker 0x%02X before the image data", m)
		}
		if !segment {
			switch m {
			case 0xD8:
				return info, errors.New("cannot decode JPEG: a second start-of-image marker before the image data")
			case 0xD9:
				return info, errors.New("cannot decode JPEG: the image ends before its header (no frame)")
			}
			b, err = next()
			continue
		}
		var lb [2]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return info, errTruncatedJPEGHeader
		}
		n := int(binary.BigEndian.Uint16(lb[:])) - 2
		if n < 0 {
			return info, fmt.Errorf("cannot decode JPEG: invalid length of segment 0x%02X", m)
		}
		if m == 0xDA { // start of scan: the header is over
			if !seenSOF {
				return info, errors.New("cannot decode JPEG: image data before the image header (no frame)")
			}
			return info, nil
		}
		isSOF := (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xCC) || m == 0xDE
		isAPP := m >= 0xE0 && m <= 0xEF
		if isSOF || (isAPP && visit != nil) || (m == 0xE0 && n >= 14) || (m == 0xEE && n >= 12) {
			seg := make([]byte, n) // n < 64 KiB
			if _, err := io.ReadFull(br, seg); err != nil {
				return info, errTruncatedJPEGHeader
			}
			switch {
			case isSOF:
				if seenSOF {
					return info, errors.New("cannot decode JPEG: two frame headers (hierarchical JPEG is not supported)")
				}
				if err := parseSOF(&info, m, seg); err != nil {
					return info, err
				}
				seenSOF = true
			case m == 0xE0 && n >= 14 && string(seg[:5]) == "JFIF\x00": // libjpeg's test
				info.jfif = true
			case m == 0xEE && n >= 12 && string(seg[:5]) == "Adobe":
				info.adobe, info.transform = true, int(seg[11])
			}
			if isAPP && visit != nil {
				visit(m, seg)
			}
		} else if _, err := br.Discard(n); err != nil {
			return info, errTruncatedJPEGHeader
		}
		b, err = next()
	}
}

func parseSOF(info *jpegInfo, m byte, s []byte) error {
	if len(s) < 6 {
		return errors.New("cannot decode JPEG: the frame header is too short")
	}
	info.sof = m
	info.precision = int(s[0])
	info.height = int(binary.BigEndian.Uint16(s[1:]))
	info.width = int(binary.BigEndian.Uint16(s[3:]))
	nc := int(s[5])
	if len(s) < 6+3*nc {
		return errors.New("cannot decode JPEG: the frame header is too short")
	}
	info.comps = info.comps[:0]
	for i := 0; i < nc; i++ {
		c := s[6+3*i:]
		info.comps = append(info.comps, jpegComponent{id: int(c[0]), h: int(c[1] >> 4), v: int(c[1] & 15)})
	}
	return nil
}

// check refuses what neither engine decodes, in the same words for both:
// Pillow and the TurboJPEG/libjpeg path decode 8-bit samples only, in 1, 3
// or 4 components.
func (j *jpegInfo) check() error {
	if j.sof == 0xDE {
		return errors.New("cannot decode JPEG: hierarchical JPEG is not supported")
	}
	if j.precision != 8 {
		return fmt.Errorf("cannot decode JPEG: %d-bit samples are not supported (only 8-bit)", j.precision)
	}
	if n := len(j.comps); n != 1 && n != 3 && n != 4 {
		return fmt.Errorf("cannot decode JPEG: %d colour components are not supported (only 1, 3 or 4)", n)
	}
	for _, c := range j.comps {
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return fmt.Errorf("cannot decode JPEG: invalid sampling factors %dx%d", c.h, c.v)
		}
	}
	if j.sof == 0xC3 {
		// What libjpeg-turbo 3 decodes for Pillow, and decodeLossless too:
		// gray or RGB, full resolution. libjpeg-turbo refuses to convert
		// YCbCr (JFIF, or Adobe's transform) to RGB in lossless mode.
		if n := len(j.comps); n != 1 && n != 3 {
			return fmt.Errorf("cannot decode JPEG: lossless JPEG with %d components is not supported (only 1 or 3)", n)
		}
		for _, c := range j.comps {
			if c.h != 1 || c.v != 1 {
				return errors.New("cannot decode JPEG: lossless JPEG with subsampled components is not supported")
			}
		}
		if len(j.comps) == 3 && (j.jfif || (j.adobe && j.transform != 0)) {
			return errors.New("cannot decode JPEG: lossless JPEG in YCbCr is not supported (converting it to RGB would lose the losslessness)")
		}
	}
	return nil
}

// pngInfo is a PNG's IHDR chunk.
type pngInfo struct {
	width, height             int
	depth, colorType, interla byte
}

// pngChannels is the number of samples per pixel of a PNG colour type.
func (p *pngInfo) channels() int {
	switch p.colorType {
	case 0, 3:
		return 1
	case 4:
		return 2
	case 2:
		return 3
	}
	return 4
}

// probePNG reads the IHDR chunk, which must come first.
func probePNG(r io.ReaderAt, size int64) (pngInfo, error) {
	var hdr [33]byte // magic, length, "IHDR", 13 bytes, CRC
	n, err := r.ReadAt(hdr[:], 0)
	if n < len(hdr) {
		if err == nil || err == io.EOF {
			return pngInfo{}, errors.New("cannot decode PNG: the file ends before the image header (truncated)")
		}
		return pngInfo{}, err
	}
	if string(hdr[12:16]) != "IHDR" || binary.BigEndian.Uint32(hdr[8:]) != 13 {
		return pngInfo{}, errors.New("cannot decode PNG: the image header (IHDR) is missing or malformed")
	}
	if crc32.ChecksumIEEE(hdr[12:29]) != binary.BigEndian.Uint32(hdr[29:]) {
		return pngInfo{}, errors.New("cannot decode PNG: the image header is damaged (checksum mismatch)")
	}
	p := pngInfo{
		width:  int(binary.BigEndian.Uint32(hdr[16:])),
		height: int(binary.BigEndian.Uint32(hdr[20:])),
		depth:  hdr[24], colorType: hdr[25], interla: hdr[28],
	}
	valid := map[byte][]byte{0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
	ok := false
	for _, d := range valid[p.colorType] {
		ok = ok || d == p.depth
	}
	if !ok {
		return p, fmt.Errorf("cannot decode PNG: unsupported bit depth %d for colour type %d", p.depth, p.colorType)
	}
	if p.interla > 1 {
		return p, fmt.Errorf("cannot decode PNG: unknown interlace method %d", p.interla)
	}
	return p, nil
}
