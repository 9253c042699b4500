/* The PNG Paeth predictor (PNG spec, section 9.4), shared by the decoder
 * (pngdec.go, which adds it back) and the encoder (pngenc.go, which subtracts
 * it): one definition, so that the two can never disagree. */
#ifndef PIUMA_PAETH_H
#define PIUMA_PAETH_H

static inline unsigned char piuma_paeth(int a, int b, int c) {
	int pa = b - c, pb = a - c, pc = pa + pb;
	pa = pa < 0 ? -pa : pa;
	pb = pb < 0 ? -pb : pb;
	pc = pc < 0 ? -pc : pc;
	if (pa <= pb && pa <= pc) return (unsigned char)a;
	return (unsigned char)(pb <= pc ? b : c);
}

#endif
