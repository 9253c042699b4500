package engine

// Palette quantisation in process with libimagequant, the library inside
// pngquant, with pngquant 2.17's defaults (pngquant.c): speed 4, quality
// 0-100 (never "quality too low"), gamma 0.45455 (pngquant's for a PNG without
// gAMA, as ours are), Floyd-Steinberg dithering at 1.0. It starts from the
// resized pixels: no true-colour PNG is encoded for it to decode again.
// Licence: libimagequant is GPL-3.0-or-later (or commercial): linking it makes
// the distributed library a GPL-3 work (README.md, "Licences").
//
// Threads: Debian's libimagequant uses OpenMP, whose default team (one thread
// per CPU, idle ones spinning) would fight the engine's own workers: the call
// asks for one thread (omp_set_num_threads acts on the calling thread; the
// symbol is weak, absent without OpenMP). The results do not depend on it.
// Every libimagequant object lives within the call; the palette is Go memory
// that C only fills during it.

/*
#cgo LDFLAGS: -limagequant
#include <stdlib.h>
#include <string.h>
#include <libimagequant.h>

extern void omp_set_num_threads(int) __attribute__((weak));

// Returns a liq_error (LIQ_OK = 0). pal receives count RGBA entries.
static int piuma_liq_quantize(const unsigned char *rgba, int w, int h,
		unsigned char *indices, unsigned char *pal, int *count, int *quality) {
	if (omp_set_num_threads)
		omp_set_num_threads(1);
	liq_attr *attr = liq_attr_create();
	if (attr == NULL)
		return LIQ_OUT_OF_MEMORY;
	liq_image *img = NULL;
	liq_result *res = NULL;
	liq_error err = liq_set_speed(attr, 4);
	if (err == LIQ_OK) {
		img = liq_image_create_rgba(attr, rgba, w, h, 0.45455);
		err = img ? liq_image_quantize(img, attr, &res) : LIQ_OUT_OF_MEMORY;
	}
	if (err == LIQ_OK) {
		liq_set_output_gamma(res, 0.45455);
		liq_set_dithering_level(res, 1.0f);
		// pngquant reads the palette once before remapping (to size its
		// output), and that has an effect: it rounds libimagequant's float
		// palette to 8 bits, which the remap then starts from. Without this
		// call the pixels differ from pngquant's.
		const liq_palette *sized = liq_get_palette(res);
		(void)sized;
		err = liq_write_remapped_image(res, img, indices, (size_t)w * h);
	}
	if (err == LIQ_OK) {
		// After the remap, as pngquant reads them: dithering refines the palette.
		const liq_palette *p = liq_get_palette(res);
		*count = (int)p->count;
		memcpy(pal, p->entries, 4 * p->count); // liq_color: r, g, b, a bytes
		*quality = liq_get_quantization_error(res) >= 0 ? liq_get_quantization_quality(res) : 90;
	}
	if (res)
		liq_result_destroy(res);
	if (img)
		liq_image_destroy(img);
	liq_attr_destroy(attr);
	return err;
}
*/
import "C"

// quantized is an image as palette indices.
type quantized struct {
	indices []byte    // one per pixel, C memory (cfree it)
	palette [][4]byte // RGBA, not premultiplied
	quality int       // libimagequant's 0..100 estimate (pngquant's Q=)
}

// quantize reduces a gray (bpp 1), RGB (3) or RGBA (4, not premultiplied)
// image to at most 256 colours.
func quantize(m image) (quantized, error) {
	rgba := m
	if m.bpp != 4 { // libimagequant takes RGBA only
		var err error
		if rgba, err = newImage(m.w, m.h, 4); err != nil {
			return quantized{}, err
		}
		defer rgba.free()
		for i, j := 0, 0; j < len(rgba.pix); i, j = i+m.bpp, j+4 {
			copy(rgba.pix[j:j+3], m.pix[i:i+m.bpp])
			if m.bpp == 1 {
				rgba.pix[j+1], rgba.pix[j+2] = m.pix[i], m.pix[i]
			}
			rgba.pix[j+3] = 255
		}
	}
	idx, err := calloc[byte](m.w * m.h)
	if err != nil {
		return quantized{}, err
	}
	var pal [256][4]byte
	var count, quality C.int
	if rc := C.piuma_liq_quantize((*C.uchar)(&rgba.pix[0]), C.int(m.w), C.int(m.h),
		(*C.uchar)(&idx[0]), (*C.uchar)(&pal[0][0]), &count, &quality); rc != C.LIQ_OK {
		cfree(idx)
		if rc == C.LIQ_OUT_OF_MEMORY {
			return quantized{}, fail(NoMemory, "libimagequant ran out of memory")
		}
		return quantized{}, fail(Internal, "libimagequant failed: error %d", int(rc))
	}
	return quantized{indices: idx, palette: pal[:count:count], quality: int(quality)}, nil
}
