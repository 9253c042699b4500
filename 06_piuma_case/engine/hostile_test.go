package engine

// Hostile inputs (issue 10): each test here fails on the engine before it
// was hardened.

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// After any TurboJPEG error the handle is as good as new: a header-level
// libjpeg error used to stay in the handle and fail every later file of
// the worker ("Unsupported marker type 0x3e").
func TestTurboHandleIsAsGoodAsNewAfterAnError(t *testing.T) {
	tj, err := newTurbo()
	if err != nil {
		t.Fatal(err)
	}
	defer tj.close()
	good := seedJPEG(t, 48, 32, false)
	sof := bytes.Index(good, []byte{0xFF, 0xC0})
	twelve := append([]byte(nil), good...)
	twelve[sof+4] = 12 // sample precision
	zeroWidth := append([]byte(nil), good...)
	zeroWidth[sof+7], zeroWidth[sof+8] = 0, 0
	corrupt := append([]byte(nil), good...)
	for i := sof + 200; i < len(corrupt)-2; i += 7 {
		corrupt[i] = 0xFF // markers in the middle of the data
	}
	bad := map[string][]byte{
		"unsupported marker": append([]byte{0xFF, 0xD8, 0xFF, 0x3E}, make([]byte, 1000)...),
		"12-bit":             twelve,
		"width 0":            zeroWidth,
		"two SOI":            append([]byte{0xFF, 0xD8}, good...),
	}
	for name, data := range bad {
		if _, _, _, err := tj.header(data); err == nil {
			if _, err := tj.decode(data, colorRGB, 48, 32, 1); err == nil {
				t.Fatalf("%s: decoded", name)
			}
		}
		if _, _, _, err := tj.header(good); err != nil {
			t.Fatalf("after %s, the header of a good JPEG: %v", name, err)
		}
		if _, err := tj.decode(good, colorRGB, 48, 32, 1); err != nil {
			t.Fatalf("after %s, a good JPEG: %v", name, err)
		}
	}
	if _, err := tj.decode(corrupt, colorRGB, 48, 32, 1); err == nil {
		t.Fatal("corrupt data decoded")
	}
	if _, err := tj.decode(good, colorRGB, 48, 32, 1); err != nil {
		t.Fatalf("after corrupt data, a good JPEG: %v", err)
	}
}

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Resize scratch memory is proportional to the output: a 4,000,000 x 1
// image fitted in 300 pixels used a table of 300 x 266,669 weights (320 MB).
func TestResampleScratchIsProportionalToTheOutput(t *testing.T) {
	long := make([]byte, 4_000_000)
	for i := range long {
		long[i] = byte(i)
	}
	var wide, tall raster
	got := allocated(func() { wide = resample(raster{pix: long, w: len(long), h: 1, bpp: 1}, 300, 1) })
	if got > 1<<20 {
		t.Errorf("4000000x1 -> 300x1 allocated %d bytes", got)
	}
	got = allocated(func() { tall = resample(raster{pix: long, w: 1, h: len(long), bpp: 1}, 1, 300) })
	if got > 1<<20 {
		t.Errorf("1x4000000 -> 1x300 allocated %d bytes", got)
	}
	// Both passes compute the same thing: the wide image is the tall one turned.
	if !bytes.Equal(wide.pix, tall.pix) || wide.w != 300 || tall.h != 300 {
		t.Errorf("the two passes disagree")
	}
}

// The weights computed on the fly equal the table's (Pillow's arithmetic).
func TestResampleStreamingEqualsTable(t *testing.T) {
	w, h := 331, 217
	src := raster{pix: make([]byte, w*h*3), w: w, h: h, bpp: 3}
	for i := range src.pix {
		src.pix[i] = byte(i*7 + i/w)
	}
	for _, tw := range []int{1, 7, 100, 330} {
		if a, b := horizontal(src, tw), horizontalStream(src, tw, newKernel(w, tw)); !bytes.Equal(a.pix, b.pix) {
			t.Errorf("horizontal to %d: the streaming pass differs", tw)
		}
	}
	for _, th := range []int{1, 9, 100, 216} {
		got := vertical(src, th)
		// Reference: the table of all the weights, as Pillow keeps it.
		bounds, kk, ksize := coeffs(h, th)
		for yy := 0; yy < th; yy++ {
			for x := 0; x < w*3; x++ {
				s := int32(1) << (precisionBits - 1)
				for j := 0; j < bounds[2*yy+1]; j++ {
					s += int32(src.pix[(bounds[2*yy]+j)*w*3+x]) * kk[yy*ksize+j]
				}
				if got.pix[yy*w*3+x] != clip8(s) {
					t.Fatalf("vertical to %d: row %d differs", th, yy)
				}
			}
		}
	}
}

func pngBytes(t *testing.T, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A resize that does not happen does not touch pixels: low-alpha pixels
// went through 8-bit premultiplication and back (up to 127 levels off).
func TestNoResizeKeepsPNGPixelsExactly(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 64, 4))
	for x := 0; x < 64; x++ {
		for y := 0; y < 4; y++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(255 - x), uint8(4 * x), uint8(x * y), uint8(1 + x%5 + 60*y)})
		}
	}
	data := pngBytes(t, m)
	for _, o := range []Options{{}, {Width: 64, Height: 64}} {
		o.MaxPixels, o.MaxMemory = DefaultMaxPixels, DefaultMaxMemory
		c := &converter{opts: &o, budget: newBudget(o.MaxMemory)}
		out, err := c.convertFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		back, err := png.Decode(bytes.NewReader(out.data))
		if err != nil {
			t.Fatal(err)
		}
		n, ok := back.(*image.NRGBA)
		if !ok || !bytes.Equal(n.Pix, m.Pix) {
			t.Errorf("box %dx%d: the pixels changed", o.Width, o.Height)
		}
	}
}

func chunk(typ string, payload []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(payload)))
	b.WriteString(typ)
	b.Write(payload)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), payload...)))
	return b.Bytes()
}

func deflate(data []byte) []byte {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// withChunks inserts chunks after the IHDR of a PNG.
func withChunks(pngData []byte, chunks ...[]byte) []byte {
	out := append([]byte(nil), pngData[:33]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, pngData[33:]...)
}

// Pillow's metadata limits, in the Go engine too.
func TestPNGMetadataLimits(t *testing.T) {
	base := pngBytes(t, image.NewGray(image.Rect(0, 0, 8, 8)))
	bomb := deflate(make([]byte, 2<<20))
	atLimit := deflate(make([]byte, maxTextChunk)) // Pillow accepts exactly 1 MiB
	justOver := deflate(make([]byte, maxTextChunk+1))
	var many [][]byte
	for i := 0; i < 65; i++ {
		many = append(many, chunk("zTXt", append([]byte("k\x00\x00"), atLimit...)))
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"zTXt bomb":      {withChunks(base, chunk("zTXt", append([]byte("Comment\x00\x00"), bomb...))), "the compressed zTXt metadata expands to more than 1 MiB"},
		"iCCP bomb":      {withChunks(base, chunk("iCCP", append([]byte("icc\x00\x00"), bomb...))), "the compressed iCCP (colour profile) metadata expands"},
		"iTXt bomb":      {withChunks(base, chunk("iTXt", append([]byte("k\x00\x01\x00\x00\x00"), bomb...))), "the compressed iTXt metadata expands"},
		"1 MiB + 1 byte": {withChunks(base, chunk("zTXt", append([]byte("k\x00\x00"), justOver...))), "the compressed zTXt metadata expands"},
		"after the data": {bytes.Join([][]byte{base[:len(base)-12], chunk("zTXt", append([]byte("c\x00\x00"), bomb...)), base[len(base)-12:]}, nil), "zTXt metadata expands"},
		"64 MiB of text": {withChunks(base, many...), "more than 64 MiB of text metadata"},
		"zTXt method":    {withChunks(base, chunk("zTXt", []byte("k\x00\x05xx"))), "unknown compression method 5 in a zTXt chunk"},
		"bad CRC":        {append(append([]byte(nil), base[:len(base)-1]...), base[len(base)-1]^1), "checksum mismatch in the IEND chunk"},
		"no IEND":        {base[:len(base)-12], "the file ends before the end of the image (truncated)"},
	}
	o := Options{MaxPixels: DefaultMaxPixels, MaxMemory: DefaultMaxMemory}
	c := &converter{opts: &o, budget: newBudget(o.MaxMemory)}
	for name, tc := range cases {
		_, err := c.convertFile(bytes.NewReader(tc.data), int64(len(tc.data)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	// Text under the limits, and a corrupt compressed text, are fine.
	ok := withChunks(base, chunk("zTXt", append([]byte("k\x00\x00"), atLimit...)),
		chunk("zTXt", []byte("k\x00\x00not zlib")))
	if _, err := c.convertFile(bytes.NewReader(ok), int64(len(ok))); err != nil {
		t.Errorf("text under the limits: %v", err)
	}
}

// tiff builds an EXIF block with the given IFD0 entries (tag, type, count,
// 4-byte value) and extra bytes after the directory.
func tiff(bo binary.AppendByteOrder, entries [][4]uint32, extra []byte) []byte {
	b := []byte("II*\x00\x08\x00\x00\x00")
	if bo == binary.AppendByteOrder(binary.BigEndian) {
		b = []byte("MM\x00*\x00\x00\x00\x08")
	}
	b = bo.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = bo.AppendUint16(b, uint16(e[0]))
		b = bo.AppendUint16(b, uint16(e[1]))
		b = bo.AppendUint32(b, e[2])
		if e[1] == 3 && e[2] <= 2 { // SHORT: left-justified
			b = bo.AppendUint16(b, uint16(e[3]))
			b = bo.AppendUint16(b, 0)
		} else {
			b = bo.AppendUint32(b, e[3])
		}
	}
	b = bo.AppendUint32(b, 0)
	return append(b, extra...)
}

// Orientation as Pillow reads it (the Python side compares with Pillow
// itself on many more cases: test_hostile_files.py).
func TestTIFFOrientationAsPillow(t *testing.T) {
	le := binary.LittleEndian
	cases := []struct {
		name  string
		block []byte
		want  int
		st    exifState
	}{
		{"SHORT", tiff(le, [][4]uint32{{0x0112, 3, 1, 6}}, nil), 6, exifFound},
		{"LONG", tiff(le, [][4]uint32{{0x0112, 4, 1, 6}}, nil), 6, exifFound},
		{"SLONG", tiff(le, [][4]uint32{{0x0112, 9, 1, 8}}, nil), 8, exifFound},
		{"BYTE is not an int", tiff(le, [][4]uint32{{0x0112, 1, 1, 6}}, nil), 1, exifFound},
		{"two SHORTs: the first", tiff(le, [][4]uint32{{0x0112, 3, 2, 5}}, nil), 5, exifFound},
		{"first entry wins", tiff(le, [][4]uint32{{0x0112, 3, 1, 3}, {0x0112, 3, 1, 6}}, nil), 3, exifFound},
		{"unknown type skipped", tiff(le, [][4]uint32{{0x0112, 99, 1, 3}, {0x0112, 3, 1, 6}}, nil), 6, exifFound},
		{"9 is invalid", tiff(le, [][4]uint32{{0x0112, 3, 1, 9}}, nil), 1, exifFound},
		{"absent", tiff(le, [][4]uint32{{0x0100, 3, 1, 6}}, nil), 1, exifAbsent},
		{"big endian", tiff(binary.BigEndian, [][4]uint32{{0x0112, 3, 1, 7}}, nil), 7, exifFound},
		{"Exif header", append([]byte("Exif\x00\x00"), tiff(le, [][4]uint32{{0x0112, 3, 1, 2}}, nil)...), 2, exifFound},
		{"not TIFF", []byte("XX*\x00\x08\x00\x00\x00\x00\x00"), 1, exifBroken},
		{"BigTIFF", []byte("II+\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 1, exifBroken},
		{"empty", nil, 1, exifAbsent},
	}
	for _, c := range cases {
		if o, st := tiffOrientation(c.block); o != c.want || st != c.st {
			t.Errorf("%s: %d (%d), want %d (%d)", c.name, o, st, c.want, c.st)
		}
	}
	// Out-of-line data cut off by the end: the directory ends there, what
	// was read before counts.
	cut := tiff(le, [][4]uint32{{0x0112, 3, 1, 4}, {0x010F, 2, 40, 200}}, nil)
	if o, _ := tiffOrientation(cut); o != 4 {
		t.Errorf("a truncated directory lost the orientation read before: %d", o)
	}
}

// XMP and ImageMagick's raw profile, Pillow's other sources.
func TestOrientationFromXMPAndRawProfile(t *testing.T) {
	base := pngBytes(t, image.NewGray(image.Rect(0, 0, 4, 2)))
	block := tiff(binary.LittleEndian, [][4]uint32{{0x0112, 3, 1, 8}}, nil)
	hex := "\nexif\n" + strconv.Itoa(len(block)) + "\n"
	for i, c := range block {
		hex += strconv.FormatInt(int64(c)|0x100, 16)[1:]
		if i%20 == 19 {
			hex += "\n"
		}
	}
	xmp := []byte(`<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>`)
	noTag := tiff(binary.LittleEndian, [][4]uint32{{0x0100, 3, 1, 6}}, nil)
	cases := map[string]struct {
		data []byte
		want int
	}{
		"raw profile (tEXt)":        {withChunks(base, chunk("tEXt", []byte("Raw profile type exif\x00"+hex))), 8},
		"raw profile (zTXt)":        {withChunks(base, chunk("zTXt", append([]byte("Raw profile type exif\x00\x00"), deflate([]byte(hex))...))), 8},
		"XMP (iTXt)":                {withChunks(base, chunk("iTXt", append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), xmp...))), 6},
		"XMP, EXIF without the tag": {withChunks(base, chunk("eXIf", noTag), chunk("iTXt", append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), xmp...))), 6},
		"EXIF wins over XMP":        {withChunks(base, chunk("eXIf", block), chunk("iTXt", append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), xmp...))), 8},
		"zTXt named exif":           {withChunks(base, chunk("zTXt", append([]byte("exif\x00\x00"), deflate(block)...)), chunk("iTXt", append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), xmp...))), 1},
		"tEXt named exif":           {withChunks(base, chunk("tEXt", append([]byte("exif\x00"), block...))), 8},
	}
	for name, c := range cases {
		if got := orientation(c.data, true); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	jpegXMP := seedJPEG(t, 8, 8, true)
	seg := append([]byte("http://ns.adobe.com/xap/1.0/\x00"), xmp...)
	app1 := append([]byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, seg...)
	jpegXMP = append(append(append([]byte(nil), jpegXMP[:2]...), app1...), jpegXMP[2:]...)
	if got := orientation(jpegXMP, false); got != 6 {
		t.Errorf("JPEG XMP: %d, want 6", got)
	}
}

// A bad file before a good one, through the whole converter.
func TestHeaderErrorsInPlainWords(t *testing.T) {
	good := seedJPEG(t, 48, 32, false)
	cases := map[string]struct {
		data []byte
		want string
	}{
		"3-byte JPEG":    {[]byte{0xFF, 0xD8, 0xFF}, "cannot decode JPEG: the file ends before the image header (truncated)"},
		"8-byte PNG":     {pngMagic, "cannot decode PNG: the file ends before the image header (truncated)"},
		"truncated JPEG": {good[:150], "cannot decode JPEG: the file ends before the image header (truncated)"},
		"bad marker":     {[]byte{0xFF, 0xD8, 0xFF, 0x3E, 0, 0}, "cannot decode JPEG: unknown marker 0x3E before the image data"},
	}
	o := Options{MaxPixels: DefaultMaxPixels, MaxMemory: DefaultMaxMemory}
	c := &converter{opts: &o, budget: newBudget(o.MaxMemory)}
	for name, tc := range cases {
		_, err := c.convertFile(bytes.NewReader(tc.data), int64(len(tc.data)))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// The memory budget: a file that needs more than all of it fails from its
// header; reservations are served in order.
func TestMemoryBudget(t *testing.T) {
	o := Options{MaxPixels: 1 << 62, MaxMemory: 64 << 20}
	c := &converter{opts: &o, budget: newBudget(o.MaxMemory)}
	huge := withChunks(pngBytes(t, image.NewGray(image.Rect(0, 0, 2, 2))))
	binary.BigEndian.PutUint32(huge[16:], 1_000_000)
	binary.BigEndian.PutUint32(huge[20:], 1_000_000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	_, err := c.convertFile(bytes.NewReader(huge), int64(len(huge)))
	if err == nil || !strings.HasPrefix(err.Error(), "not enough memory: this 1000000x1000000 image needs about ") ||
		!strings.HasSuffix(err.Error(), " TiB, max_memory is 64.0 MiB") {
		t.Errorf("huge PNG: %v", err)
	}

	b := newBudget(100)
	b.acquire(60)
	order := make(chan int, 3)
	var wg sync.WaitGroup
	for i, n := range []int64{80, 30} { // 80 waits; 30 would fit but must not overtake it
		wg.Add(1)
		go func(i int, n int64) {
			defer wg.Done()
			b.acquire(n)
			order <- i
			b.release(n)
		}(i, n)
		for {
			b.mu.Lock()
			queued := len(b.waiters)
			b.mu.Unlock()
			if queued == i+1 {
				break
			}
			runtime.Gosched()
		}
	}
	b.release(60)
	wg.Wait()
	if first := <-order; first != 0 {
		t.Errorf("the small reservation overtook the large one")
	}
}

// Temp files of killed runs are removed by the next write in their folder;
// those of live processes (and of this one) are left alone.
func TestStaleTempFilesAreCleaned(t *testing.T) {
	dir := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{ // name: should survive
		".a.jpg.piuma-" + strconv.Itoa(dead.Process.Pid) + "-0badcafe.tmp":    false,
		".b\nc.jpg.piuma-" + strconv.Itoa(dead.Process.Pid) + "-00000001.tmp": false,
		".c.jpg.piuma-" + strconv.Itoa(os.Getppid()) + "-00000002.tmp":        true,
		".d.jpg.piuma-" + strconv.Itoa(os.Getpid()) + "-00000003.tmp":         true,
		".e.jpg.12345.tmp":   true, // not ours (an older version's, another tool's)
		"photo.jpg":          true,
		".f.jpg.piuma-1.tmp": true,
	}
	for name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := ".g.jpg.piuma-" + strconv.Itoa(dead.Process.Pid) + "-00000004.tmp"
	if err := os.Symlink("photo.jpg", filepath.Join(dir, link)); err != nil {
		t.Fatal(err)
	}
	names[link] = true // not a regular file
	o := newOutputs(dir, "")
	defer o.close()
	if err := writeOutput(t, o, dir, ".", "new.jpg", []byte("data")); err != nil {
		t.Fatal(err)
	}
	for name, survives := range names {
		if _, err := os.Lstat(filepath.Join(dir, name)); (err == nil) != survives {
			t.Errorf("%q: exists %v, want %v", name, err == nil, survives)
		}
	}
}

// The folder is flushed after the rename, and the rename happens in the
// folder that was opened: a symbolic link swapped in meanwhile (here, while
// the temp file is flushed) cannot send the output into the source folder.
func TestWriteFsyncsTheFolderAndIgnoresSwappedLinks(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	for _, d := range []string{filepath.Join(src, "sub"), filepath.Join(dst, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "a.jpg"), []byte("source"), 0o644); err != nil {
		t.Fatal(err)
	}
	var synced []string
	swapped := false
	fsyncHook = func(fd int) {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			synced = append(synced, map[bool]string{true: "folder", false: "file"}[st.Mode&unix.S_IFMT == unix.S_IFDIR])
		}
		if !swapped {
			swapped = true
			os.Rename(filepath.Join(dst, "sub"), filepath.Join(dst, "sub.old"))
			os.Symlink(filepath.Join(src, "sub"), filepath.Join(dst, "sub"))
		}
	}
	defer func() { fsyncHook = nil }()
	o := newOutputs(dst, src)
	defer o.close()
	if err := writeOutput(t, o, dst, "sub", "a.jpg", []byte("output")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(src, "sub", "a.jpg")); string(got) != "source" {
		t.Fatalf("the source was replaced: %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "sub.old", "a.jpg")); string(got) != "output" {
		t.Fatalf("the output is not in the folder that was opened: %q", got)
	}
	if strings.Join(synced, ",") != "file,folder" {
		t.Errorf("flushed: %v, want the file, then its folder", synced)
	}
	// Now that dst/sub leads into src, the next output there is refused.
	if err := writeOutput(t, o, dst, "sub", "b.jpg", []byte("x")); err != errInsideSource {
		t.Errorf("a folder inside the source: %v", err)
	}
}

// A FIFO swapped in after the stat cannot block the open.
func TestOpenCheckedNeverBlocksOnAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe.jpg")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, _, err := openChecked(fifo)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != errNotRegular {
			t.Errorf("got %v", err)
		}
	case <-time.After(60 * time.Second): // a hang detector: it returns at once or never
		t.Fatal("open blocked on a FIFO")
	}
}

// Lossless JPEGs (testdata/seeds/lossless-*.jpg, written by
// make_images.lossless_jpeg: samples (37x + 11(c+1)y + 50c) mod 256) decode
// to exactly their samples; test_hostile_files.py checks Pillow agrees.
func TestLosslessJPEGDecodesExactly(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "seeds", "lossless-*.jpg"))
	if len(files) == 0 {
		t.Fatal("no lossless seeds")
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := probeJPEG(bytes.NewReader(data), int64(len(data)))
		if err == nil {
			err = info.check()
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r, err := decodeLossless(data, info)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pt := 0
		if i := strings.Index(name, "-pt"); i >= 0 {
			pt = int(name[i+3] - '0')
		}
		for y := 0; y < r.h; y++ {
			for x := 0; x < r.w; x++ {
				for c := 0; c < r.bpp; c++ {
					want := byte((37*x + 11*(c+1)*y + 50*c) % 256 >> pt << pt)
					if got := r.pix[(y*r.w+x)*r.bpp+c]; got != want {
						t.Fatalf("%s: sample (%d, %d, %d) = %d, want %d", filepath.Base(name), x, y, c, got, want)
					}
				}
			}
		}
	}
}
