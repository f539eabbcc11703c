/* Case folding for search (see search.h). Cyrillic capitals are two-byte sequences D0 90..D0 AF
 * (А..Я) and D0 81 (Ё); their lower-case forms are D0 B0..D0 BF, D1 80..D1 8F and D1 91. */
#include "core/search.h"

size_t search_fold(struct str in, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < in.len;) {
		unsigned char c = (unsigned char)in.p[i];
		if (c == 0xd0 && i + 1 < in.len) {
			unsigned char d = (unsigned char)in.p[i + 1];
			unsigned char lo0 = 0xd0, lo1 = d;
			if (o + 2 >= outsz)
				break;
			if (d >= 0x90 && d <= 0x9f) {
				lo1 = d + 0x20;
			} else if (d >= 0xa0 && d <= 0xaf) {
				lo0 = 0xd1, lo1 = d - 0x20;
			} else if (d == 0x81) {
				lo0 = 0xd1, lo1 = 0x91;
			}
			out[o++] = (char)lo0;
			out[o++] = (char)lo1;
			i += 2;
			continue;
		}
		size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (i + n > in.len || o + n >= outsz)
			break;
		for (size_t k = 0; k < n; k++) {
			unsigned char b = (unsigned char)in.p[i + k];
			out[o++] = (char)(n == 1 && b >= 'A' && b <= 'Z' ? b + 32 : b);
		}
		i += n;
	}
	if (outsz)
		out[o] = '\0';
	return o;
}
