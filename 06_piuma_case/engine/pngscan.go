package engine

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf8"
)

// scanPNG checks the chunk structure of a PNG before it is decoded, and
// collects its orientation sources. Both engines run it (the Python engine
// runs piuma/_probe.py's copy), so they refuse the same files alike:
//
//   - every chunk is complete and its CRC matches (image/png checks them
//     all; Pillow only the chunks before the image data), up to IEND;
//   - metadata limits are Pillow's (PngImagePlugin): a zTXt, iCCP or
//     compressed iTXt chunk may inflate to at most MAX_TEXT_CHUNK (1 MiB),
//     all text together to 64 MiB; a zTXt or iCCP chunk with an unknown
//     compression method is an error. image/png skips these chunks, so
//     without this check a metadata bomb refused by one engine would pass
//     the other.
//
// Inflating stops at the limit: a bomb costs at most 1 MiB of work, and no
// memory (the text is counted, not kept, except the few values that can
// hold an orientation).

const (
	maxTextChunk  = 1 << 20        // PngImagePlugin.MAX_TEXT_CHUNK (ImageFile.SAFEBLOCK)
	maxTextMemory = 64 * (1 << 20) // PngImagePlugin.MAX_TEXT_MEMORY
)

type pngScanResult struct {
	meta imageMeta
}

// pngText is the state of the text keys that matter for orientation.
type pngText struct {
	imageMeta
	exifSet bool // an "exif" key (eXIf chunk or text chunk) is set
}

// set records a text key; isStr: Pillow stores the value as a str (zTXt,
// iTXt), which it cannot load as EXIF.
func (t *pngText) set(key string, value []byte, isStr bool) {
	switch key {
	case "exif":
		t.exifSet = true
		t.exif, t.exifBroken = value, isStr
		if t.exif == nil {
			t.exif = []byte{}
		}
	case "Raw profile type exif":
		t.rawProfile = value
	case "XML:com.adobe.xmp":
		t.xmp = value
	}
}

var errPNGTruncated = errors.New("cannot decode PNG: the file ends before the end of the image (truncated)")

// inflateLimited inflates a zlib stream, as Pillow's _safe_zlib_decompress:
// more than maxTextChunk bytes is an error; a corrupt stream gives ok=false
// (Pillow ignores the chunk); a truncated one gives what could be inflated.
func inflateLimited(data []byte, what string) (out []byte, ok bool, err error) {
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return []byte{}, true, nil // no complete header yet: nothing inflated (as Python's zlib)
	}
	if err != nil {
		return nil, false, nil
	}
	var buf bytes.Buffer
	// One byte past the limit tells "exactly 1 MiB" (Pillow accepts it) from more.
	n, err := io.Copy(&buf, io.LimitReader(zr, maxTextChunk+1))
	if n > maxTextChunk {
		return nil, false, fmt.Errorf("cannot decode PNG: the compressed %s metadata expands to more than 1 MiB (metadata bomb?)", what)
	}
	switch {
	case err == nil || errors.Is(err, io.ErrUnexpectedEOF):
		return buf.Bytes(), true, nil
	}
	return nil, false, nil
}

func scanPNG(data []byte) (pngScanResult, error) {
	var res pngScanResult
	var pre, full pngText // orientation sources before the image data / in all
	pos := len(pngMagic)
	textMemory := 0
	seenIDAT, seenIEND := false, false
	acTLFrames, fcTLBeforeIDAT, animated := 0, false, false
	stopped := false // orientation sources end here (Pillow stops reading)
	for !seenIEND {
		if pos+8 > len(data) {
			return res, errPNGTruncated
		}
		length := int(binary.BigEndian.Uint32(data[pos:]))
		typ := data[pos+4 : pos+8]
		for _, c := range typ {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
				return res, fmt.Errorf("cannot decode PNG: damaged chunk structure at byte %d (invalid chunk type)", pos)
			}
		}
		if length > 1<<31-1 || pos+12+length > len(data) {
			return res, errPNGTruncated
		}
		body := data[pos+8 : pos+8+length]
		if crc32.Update(crc32.ChecksumIEEE(typ), crc32.IEEETable, body) != binary.BigEndian.Uint32(data[pos+8+length:]) {
			return res, fmt.Errorf("cannot decode PNG: damaged data (checksum mismatch in the %s chunk)", typ)
		}
		pos += 12 + length
		name := string(typ)
		switch name {
		case "IDAT":
			if !seenIDAT {
				// An animated PNG (Pillow's is_animated): more than one
				// frame, counting the image data when no fcTL precedes it.
				animated = acTLFrames > 1 || (acTLFrames == 1 && !fcTLBeforeIDAT)
			}
			seenIDAT = true
			continue
		case "IEND":
			seenIEND = true
			continue
		case "fcTL":
			if !seenIDAT {
				fcTLBeforeIDAT = true
			} else if animated {
				stopped = true // Pillow stops reading at the next frame
			}
		case "acTL":
			if stopped {
				break
			}
			if length < 8 {
				return res, errors.New("cannot decode PNG: damaged animation control (acTL) chunk")
			}
			if acTLFrames != 0 { // a second acTL: Pillow forgets the animation
				acTLFrames = 0
			} else if n := binary.BigEndian.Uint32(body); n > 0 && n <= 0x80000000 {
				acTLFrames = int(n)
			}
		}
		var key string
		var value []byte
		isStr, hasText := false, false
		switch name {
		case "tEXt":
			k, v, _ := bytes.Cut(body, []byte{0})
			if len(k) > 0 {
				key, value, hasText = string(k), v, true
				textMemory += len(v)
			}
		case "zTXt":
			k, v, _ := bytes.Cut(body, []byte{0})
			if len(v) > 0 && v[0] != 0 {
				return res, fmt.Errorf("cannot decode PNG: unknown compression method %d in a zTXt chunk", v[0])
			}
			var text []byte
			if len(v) > 0 {
				out, ok, err := inflateLimited(v[1:], "zTXt")
				if err != nil {
					return res, err
				}
				if ok {
					text = out
				}
			}
			if len(k) > 0 {
				key, value, isStr, hasText = string(k), text, true, true
				textMemory += len(text)
			}
		case "iTXt":
			k, r, found := bytes.Cut(body, []byte{0})
			if !found || len(r) < 2 {
				break
			}
			flag, method := r[0], r[1]
			parts := bytes.SplitN(r[2:], []byte{0}, 3)
			if len(parts) < 3 {
				break
			}
			lang, tk, v := parts[0], parts[1], parts[2]
			if flag != 0 {
				if method != 0 {
					break
				}
				out, ok, err := inflateLimited(v, "iTXt")
				if err != nil {
					return res, err
				}
				if !ok {
					break
				}
				v = out
			}
			if string(k) == "XML:com.adobe.xmp" && !stopped {
				full.xmpRaw = v
				if !seenIDAT {
					pre.xmpRaw = v
				}
			}
			if !utf8.Valid(lang) || !utf8.Valid(tk) || !utf8.Valid(v) {
				break
			}
			key, value, isStr, hasText = string(k), v, true, true
			textMemory += utf8.RuneCount(v)
		case "iCCP":
			i := bytes.IndexByte(body, 0) // -1: Pillow reads the method from byte 0
			if i+1 >= len(body) {
				return res, errors.New("cannot decode PNG: damaged iCCP (colour profile) chunk")
			}
			if body[i+1] != 0 {
				return res, fmt.Errorf("cannot decode PNG: unknown compression method %d in the iCCP (colour profile) chunk", body[i+1])
			}
			if _, _, err := inflateLimited(body[i+2:], "iCCP (colour profile)"); err != nil {
				return res, err
			}
		case "eXIf":
			if !stopped {
				exif := append([]byte("Exif\x00\x00"), body...)
				full.set("exif", exif, false)
				if !seenIDAT {
					pre.set("exif", exif, false)
				}
			}
		}
		if textMemory > maxTextMemory {
			return res, errors.New("cannot decode PNG: more than 64 MiB of text metadata")
		}
		if hasText && !stopped {
			full.set(key, value, isStr)
			if !seenIDAT {
				pre.set(key, value, isStr)
			}
		}
	}
	if !seenIDAT {
		return res, errors.New("cannot decode PNG: no image data (IDAT chunk)")
	}
	// Pillow reads the chunks after the image data only when those before
	// it have no "exif" value (PngImageFile.getexif loads the image then).
	if pre.exifSet {
		res.meta = pre.imageMeta
	} else {
		res.meta = full.imageMeta
	}
	return res, nil
}
