package engine

// Palette quantisation with libimagequant (GPL-3.0-or-later: README.md,
// "Licences") and pngquant 2.17's defaults: speed 4, quality 0-100, gamma
// 0.45455 (for a PNG without gAMA, as ours are), dithering 1.0. OpenMP's
// default team (a spinning thread per CPU) would fight the engine's workers:
// one thread (a weak symbol, absent without OpenMP; the same results). Every
// libimagequant object lives within the call, where C fills the Go palette.

/*
#cgo LDFLAGS: -limagequant
#include <stdlib.h>
#include <string.h>
#include <libimagequant.h>

extern void omp_set_num_threads(int) __attribute__((weak));

// Returns a liq_error (LIQ_OK = 0); pal receives count RGBA entries.
static int piuma_liq_quantize(const unsigned char *rgba, int w, int h,
		unsigned char *indices, unsigned char *pal, int *count, int *quality) {
	if (omp_set_num_threads) omp_set_num_threads(1);
	liq_attr *attr = liq_attr_create();
	if (attr == NULL) return LIQ_OUT_OF_MEMORY;
	liq_set_speed(attr, 4); // (an error only for a speed out of 1..10)
	liq_result *res = NULL;
	liq_image *img = liq_image_create_rgba(attr, rgba, w, h, 0.45455);
	liq_error err = img ? liq_image_quantize(img, attr, &res) : LIQ_OUT_OF_MEMORY;
	if (err == LIQ_OK) {
		liq_set_output_gamma(res, 0.45455);
		liq_set_dithering_level(res, 1.0f);
		// pngquant reads the palette before the remap (to size its output): that
		// rounds it to 8 bits, which the remap starts from (without this call the
		// pixels differ); it reads it again after, dithering having refined it.
		const liq_palette *p = liq_get_palette(res);
		err = liq_write_remapped_image(res, img, indices, (size_t)w * h);
		p = liq_get_palette(res);
		*count = (int)p->count;
		memcpy(pal, p->entries, 4 * p->count); // liq_color: r, g, b, a bytes
		*quality = liq_get_quantization_error(res) >= 0 ? liq_get_quantization_quality(res) : 90;
	}
	if (res) liq_result_destroy(res);
	if (img) liq_image_destroy(img);
	liq_attr_destroy(attr);
	return err;
}
*/
import "C"

// quantize is m in at most 256 colours, the palette file as pngquant writes it
// (C memory, cfree it), and libimagequant's 0..100 quality (pngquant's Q=).
func quantize(m image) (data []byte, quality int, err error) {
	rgba := m
	if m.bpp != 4 { // libimagequant takes RGBA only
		if rgba, err = newImage(m.w, m.h, 4); err != nil {
			return nil, 0, err
		}
		defer rgba.free()
		for i, j, g := 0, 0, m.bpp/3; j < len(rgba.pix); i, j = i+m.bpp, j+4 { // gray: g = 0
			rgba.pix[j], rgba.pix[j+1], rgba.pix[j+2], rgba.pix[j+3] = m.pix[i], m.pix[i+g], m.pix[i+2*g], 255
		}
	}
	idx, err := calloc(m.w * m.h) // an index a pixel
	if err != nil {
		return nil, 0, err
	}
	defer cfree(idx)
	var palette [256][4]byte
	var count, q C.int
	if rc := C.piuma_liq_quantize((*C.uchar)(&rgba.pix[0]), C.int(m.w), C.int(m.h),
		(*C.uchar)(&idx[0]), (*C.uchar)(&palette[0][0]), &count, &q); rc == C.LIQ_OUT_OF_MEMORY {
		return nil, 0, fail(NoMemory, "libimagequant ran out of memory")
	} else if rc != C.LIQ_OK {
		return nil, 0, fail(Internal, "libimagequant failed: error %d", int(rc))
	}
	data, err = encodePalette(idx, m.w, m.h, palette[:count:count])
	return data, int(q), err
}
