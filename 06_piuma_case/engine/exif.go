package engine

import (
	"bytes"
	"encoding/binary"
)

// EXIF orientation (tag 0x0112), read from the bytes of the file: a JPEG
// APP1 "Exif" segment or a PNG eXIf chunk. Neither image/jpeg nor TurboJPEG
// look at EXIF, so the engine parses the few bytes it needs itself. Any
// malformed or missing data means orientation 1 (as stored): EXIF is
// metadata, a broken EXIF block must not make a good image fail.

// jpegExif returns the TIFF payload of the first APP1 Exif segment.
func jpegExif(data []byte) []byte {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return nil
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01:
			i += 2 // markers without a length
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan / end of image
			return nil
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// pngExif returns the payload of the first eXIf chunk. It may come before or
// after the image data (libpng writes either; Pillow reads either), so the
// chunk headers are followed, skipping the IDAT payloads, up to IEND.
func pngExif(data []byte) []byte {
	i := len(pngMagic)
	for i+8 <= len(data) {
		n := int(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		if n < 0 || i+8+n > len(data) || typ == "IEND" {
			return nil
		}
		if typ == "eXIf" {
			return data[i+8 : i+8+n]
		}
		i += 12 + n // length, type, data, CRC
	}
	return nil
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF-structured block.
func tiffOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := int(bo.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > len(tiff) {
		return 1
	}
	count := int(bo.Uint16(tiff[ifd:]))
	for k := 0; k < count; k++ {
		e := ifd + 2 + 12*k
		if e+12 > len(tiff) {
			return 1
		}
		// Entry: tag, type, count, value (a SHORT is left-justified).
		if bo.Uint16(tiff[e:]) == 0x0112 && bo.Uint16(tiff[e+2:]) == 3 {
			if o := int(bo.Uint16(tiff[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
	}
	return 1
}

// orientation of an image file's bytes (1 to 8; 1 when absent).
func orientation(data []byte, isPNG bool) int {
	if isPNG {
		return tiffOrientation(pngExif(data))
	}
	return tiffOrientation(jpegExif(data))
}
