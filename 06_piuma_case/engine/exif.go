package engine

import (
	"bytes"
	"encoding/binary"
	"regexp"
)

// EXIF orientation (tag 0x0112), read from the bytes of the file, from the
// same places and with the same rules as Pillow's Image.getexif() (Pillow
// 11-13): the Python engine (piuma/_probe.py) runs the same code, so both
// engines turn the same files the same way. Neither image/jpeg nor
// TurboJPEG look at EXIF. Sources, in order:
//
//  1. the EXIF block: JPEG APP1 "Exif\0\0" segments (several are joined);
//     PNG eXIf chunk, or a tEXt chunk named "exif" (Pillow reads one);
//  2. without one, a PNG text chunk "Raw profile type exif" (ImageMagick
//     writes the block as hex there);
//  3. when the block has no orientation tag at all, tiff:Orientation in the
//     XMP packet (JPEG APP1, PNG text chunk "XML:com.adobe.xmp").
//
// A value outside 1..8, or of a non-integer TIFF type, means 1 (as
// stored). A malformed block is never an error: EXIF is metadata, a broken
// one must not make a good image fail; it means 1 too.

// exifState is what an EXIF block says about orientation.
type exifState int

const (
	exifAbsent exifState = iota // no tag 0x0112 (XMP is consulted)
	exifFound                   // the tag is there: value decides
	exifBroken                  // unreadable header (Pillow raises): orientation 1
)

// TIFF field types and their sizes, as Pillow loads them; intTypes are
// the ones Pillow turns into a Python int (others are bytes, str, floats
// or rationals: not an orientation).
var tiffTypeSize = map[uint16]int{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}

// tiffOrientation reads tag 0x0112 from IFD0 of an EXIF block, as Pillow's
// Exif.load and ImageFileDirectory_v2.load do: one or two "Exif\0\0"
// prefixes are dropped; the first readable entry of the tag wins; entries
// cut off by the end of the block end the directory but keep what was read.
func tiffOrientation(data []byte) (o int, st exifState) {
	for i := 0; i < 2 && bytes.HasPrefix(data, []byte("Exif\x00\x00")); i++ {
		data = data[6:]
	}
	if len(data) == 0 {
		return 1, exifAbsent
	}
	if len(data) < 8 {
		return 1, exifBroken
	}
	var bo binary.ByteOrder
	switch string(data[:4]) {
	case "II*\x00", "II\x00*":
		bo = binary.LittleEndian
	case "MM\x00*", "MM*\x00":
		bo = binary.BigEndian
	default: // not TIFF, or BigTIFF (whose 8-byte header Pillow cannot read here)
		return 1, exifBroken
	}
	pos := int64(bo.Uint32(data[4:]))
	end := int64(len(data))
	if pos+2 > end {
		return 1, exifAbsent
	}
	count := int64(bo.Uint16(data[pos:]))
	total := int64(0) // out-of-line bytes so far: more than the block means lies
	seen := map[uint16]bool{}
	for k := int64(0); k < count; k++ {
		e := pos + 2 + 12*k
		if e+12 > end {
			break
		}
		tag, typ := bo.Uint16(data[e:]), bo.Uint16(data[e+2:])
		if seen[tag] {
			continue // the first readable entry of a tag wins
		}
		n := int64(bo.Uint32(data[e+4:]))
		unit, ok := tiffTypeSize[typ]
		if !ok {
			continue // unknown type: skipped
		}
		size := n * int64(unit)
		val := data[e+8 : e+12]
		if size > 4 {
			off := int64(bo.Uint32(val))
			if total += size; total > end {
				continue // more data than the block holds: skipped
			}
			if off+size > end {
				break // Pillow's read fails: the directory ends here
			}
			val = data[off : off+size]
		} else {
			val = val[:size]
		}
		if size == 0 {
			continue
		}
		seen[tag] = true
		if tag != 0x0112 {
			continue
		}
		var v int64
		switch typ {
		case 3:
			v = int64(bo.Uint16(val))
		case 4, 13:
			v = int64(bo.Uint32(val))
		case 6:
			v = int64(int8(val[0]))
		case 8:
			v = int64(int16(bo.Uint16(val)))
		case 9:
			v = int64(int32(bo.Uint32(val)))
		case 16:
			if u := bo.Uint64(val); u <= 8 {
				v = int64(u)
			}
		default:
			return 1, exifFound // bytes, text, rational or float: not an orientation
		}
		if v >= 1 && v <= 8 {
			return int(v), exifFound
		}
		return 1, exifFound
	}
	return 1, exifAbsent
}

// xmpOrientation is Pillow's regular expression on the XMP packet.
var xmpOrientationRE = regexp.MustCompile(`tiff:Orientation(?:="|>)([0-9])`)

func xmpOrientation(xmp []byte) int {
	m := xmpOrientationRE.FindSubmatch(xmp)
	if m == nil {
		return 0
	}
	return int(m[1][0] - '0')
}

// imageMeta holds the orientation sources of one file.
type imageMeta struct {
	exif        []byte // the EXIF block, or nil
	exifBroken  bool   // an "exif" value Pillow cannot load (a compressed text chunk)
	rawProfile  []byte // PNG "Raw profile type exif" text, or nil
	xmp, xmpRaw []byte // XMP packet (text chunk / iTXt bytes), or nil
}

// orientation combines the sources (1 to 8; 1 when absent or invalid).
func (m *imageMeta) orientation() int {
	exif, st, o := m.exif, exifAbsent, 1
	if exif == nil && m.rawProfile != nil {
		var ok bool
		if exif, ok = rawProfileBytes(m.rawProfile); !ok {
			return 1 // Pillow's bytes.fromhex raises
		}
	}
	switch {
	case m.exifBroken:
		return 1
	case exif != nil:
		o, st = tiffOrientation(exif)
	}
	if st != exifAbsent {
		return o
	}
	xmp := m.xmp
	if len(xmp) == 0 {
		xmp = m.xmpRaw
	}
	if v := xmpOrientation(xmp); v >= 1 && v <= 8 {
		return v
	}
	return 1
}

// rawProfileBytes decodes ImageMagick's "Raw profile type exif" text: a
// header of three lines, then hex digits (Pillow: bytes.fromhex of the
// lines after the third, joined; whitespace between byte pairs is allowed).
func rawProfileBytes(text []byte) ([]byte, bool) {
	lines := bytes.Split(text, []byte("\n"))
	if len(lines) <= 3 {
		return []byte{}, true
	}
	hex := bytes.Join(lines[3:], nil)
	out := make([]byte, 0, len(hex)/2)
	for i := 0; i < len(hex); {
		switch hex[i] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			i++
			continue
		}
		if i+1 >= len(hex) {
			return nil, false
		}
		hi, ok1 := hexDigit(hex[i])
		lo, ok2 := hexDigit(hex[i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		out = append(out, hi<<4|lo)
		i += 2
	}
	return out, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// jpegMeta collects the EXIF block and the XMP packet of a JPEG, as
// Pillow's APP handler does: Exif segments are joined (the first with its
// "Exif\0\0" header, the others without), the last XMP packet wins.
func jpegMeta(data []byte) imageMeta {
	var m imageMeta
	_, _ = walkJPEG(bytes.NewReader(data), int64(len(data)), func(marker byte, seg []byte) {
		if marker != 0xE1 {
			return
		}
		switch {
		case bytes.HasPrefix(seg, []byte("Exif\x00\x00")):
			if m.exif == nil {
				m.exif = seg
			} else {
				m.exif = append(append([]byte(nil), m.exif...), seg[6:]...)
			}
		case bytes.HasPrefix(seg, []byte("http://ns.adobe.com/xap/1.0/\x00")):
			m.xmp = seg[len("http://ns.adobe.com/xap/1.0/\x00"):]
		}
	})
	return m
}

// orientation of an image file's bytes (1 to 8; 1 when absent).
func orientation(data []byte, isPNG bool) int {
	if isPNG {
		scan, err := scanPNG(data)
		if err != nil {
			return 1
		}
		return scan.meta.orientation()
	}
	m := jpegMeta(data)
	return m.orientation()
}
