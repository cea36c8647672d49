/*
 * A guest program for tests/guest/linux/sse_guest.py: SSE2 scalar and
 * vector arithmetic as the compiler emits it (gcc -m32 -static -O2 -msse2
 * -mfpmath=sse), MMX, SSE3 and SSSE3 through intrinsics, every rounding
 * mode, flush-to-zero and denormals-are-zero through MXCSR, and glibc's
 * string functions, which
 * pick their SSE2/SSSE3 variants from CPUID.  One line per part:
 *
 *   SSECHECK <name> <checksum>
 *
 * Checksums depend only on the computation (fixed-width integers, IEEE
 * basic operations; no libm, whose variants differ between hosts), so the
 * same source built for i386 or x86-64 prints the same lines natively and
 * in the guest.
 */
#include <emmintrin.h>
#include <mmintrin.h>
#include <pmmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <tmmintrin.h>
#include <xmmintrin.h>

static uint32_t hash = 2166136261u;

static void mix(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        hash = (hash ^ b[i]) * 16777619u;
    }
}

static void report(const char *name)
{
    printf("SSECHECK %s %08x\n", name, hash);
    hash = 2166136261u;
}

static uint32_t state = 0x2545f491u;

static uint32_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

/* Doubles and floats from random bits: normal, denormal, huge, NaN, inf. */
static double rnd_double(void)
{
    uint64_t bits = (uint64_t)rnd() << 32 | rnd();
    double d;
    if ((bits & 7) == 0) {
        bits &= 0x800fffffffffffffull; /* denormal or zero */
    }
    memcpy(&d, &bits, 8);
    return d;
}

static float rnd_float(void)
{
    uint32_t bits = rnd();
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

#define N 512
static double da[N], db[N], dc[N];
static float fa[N], fb[N], fc[N];
static int32_t ia[N];

/* Scalar and auto-vectorized double and float arithmetic and conversions. */
static void part_scalar(void)
{
    unsigned saved = _mm_getcsr();
    for (unsigned rc = 0; rc < 4; rc++) {
        _mm_setcsr((saved & ~0x6000u) | rc << 13); /* nearest, down, up, toward zero */
        for (int i = 0; i < N; i++) {
            da[i] = rnd_double();
            db[i] = (double)(int32_t)rnd() / 1024.0;
            fa[i] = rnd_float();
            fb[i] = (float)(rnd() & 0xffffff) * 0.001f;
        }
        for (int i = 0; i < N; i++) {
            double root = _mm_cvtsd_f64(_mm_sqrt_sd(_mm_setzero_pd(), _mm_set_sd(db[i] * db[i])));
            dc[i] = da[i] * db[i] + da[i] / (db[i] + 1.5) - root;
            fc[i] = fa[i] * fb[i] - fb[i] / (fa[i] + 3.0f);
            ia[i] = (db[i] > -2e9 && db[i] < 2e9) ? (int32_t)db[i] + _mm_cvtsd_si32(_mm_set_sd(db[i])) : 7;
            mix(&dc[i], 8);
            mix(&fc[i], 4);
            float f = (float)dc[i];
            double d = (double)fc[i];
            mix(&f, 4);
            mix(&d, 8);
            mix(&ia[i], 4);
        }
        double sum = 0;
        for (int i = 0; i < N; i++) {
            sum += db[i] * 0.5; /* vectorizable reductions aside, the order is fixed */
        }
        mix(&sum, 8);
    }
    _mm_setcsr(saved);
    report("scalar");
}

/* SSE2 integer vectors, MMX, SSE3 and SSSE3 through intrinsics. */
__attribute__((target("ssse3"))) static void part_vector(void)
{
    for (int round = 0; round < 200; round++) {
        uint32_t w[8];
        for (int i = 0; i < 8; i++) {
            w[i] = rnd();
        }
        __m128i a = _mm_loadu_si128((const __m128i *)w), b = _mm_loadu_si128((const __m128i *)(w + 4));
        __m128i r[12];
        r[0] = _mm_add_epi16(a, b);
        r[1] = _mm_mulhi_epi16(a, b);
        r[2] = _mm_packs_epi32(a, b);
        r[3] = _mm_sad_epu8(a, b);
        r[4] = _mm_shuffle_epi32(_mm_unpackhi_epi8(a, b), 0x4e);
        r[5] = _mm_srai_epi16(_mm_slli_epi32(a, 3), 5);
        r[6] = _mm_shuffle_epi8(a, b);
        r[7] = _mm_alignr_epi8(a, b, 5);
        r[8] = _mm_hadds_epi16(a, b);
        r[9] = _mm_maddubs_epi16(a, b);
        r[10] = _mm_sign_epi32(_mm_abs_epi8(a), b);
        r[11] = _mm_mulhrs_epi16(a, b);
        mix(r, sizeof(r));
        __m128 fa4 = _mm_cvtepi32_ps(a), fb4 = _mm_cvtepi32_ps(_mm_srli_epi32(b, 7));
        __m128 f[6];
        f[0] = _mm_hadd_ps(fa4, fb4);
        f[1] = _mm_addsub_ps(fa4, fb4);
        f[2] = _mm_div_ps(fa4, fb4);
        f[3] = _mm_max_ps(_mm_sqrt_ps(fb4), _mm_moveldup_ps(fa4));
        f[4] = _mm_cmplt_ps(fa4, fb4);
        f[5] = _mm_shuffle_ps(fa4, fb4, 0x9c);
        mix(f, sizeof(f));
        __m128d d0 = _mm_cvtps_pd(fa4), d1 = _mm_cvtepi32_pd(b);
        __m128d d[3] = {_mm_hsub_pd(d0, d1), _mm_mul_pd(d0, d1), _mm_movedup_pd(d1)};
        mix(d, sizeof(d));
        int32_t conv[4] = {_mm_cvtsd_si32(d1), _mm_cvttss_si32(fa4), _mm_movemask_ps(fa4),
                           _mm_movemask_epi8(a)};
        mix(conv, sizeof(conv));
        __m64 ma = _mm_set_pi32((int)w[0], (int)w[1]), mb = _mm_set_pi32((int)w[2], (int)w[3]);
        __m64 mr[4] = {_mm_adds_pi16(ma, mb), _mm_madd_pi16(ma, mb), _mm_unpacklo_pi8(ma, mb),
                       _mm_shuffle_pi8(ma, mb)};
        _mm_empty();
        mix(mr, sizeof(mr));
    }
    report("vector");
}

/* Flush-to-zero and denormals-are-zero through MXCSR. */
static void part_mxcsr(void)
{
    unsigned saved = _mm_getcsr();
    static const unsigned modes[4] = {0x0000, 0x8000, 0x0040, 0x8040};
    for (int m = 0; m < 4; m++) {
        _mm_setcsr((saved & ~0x8040u) | modes[m]);
        volatile double tiny = 0x1p-1030, small = 0x1p-20;
        volatile float ftiny = 0x1p-140f;
        double r[3] = {tiny * 3.0, tiny + tiny, small * small * small * small * small * small};
        float fr = ftiny * 1.5f;
        mix(r, sizeof(r));
        mix(&fr, 4);
        unsigned flags = _mm_getcsr() & 0x3f;
        mix(&flags, 4);
    }
    _mm_setcsr(saved);
    report("mxcsr");
}

/* glibc's string functions on every alignment and length up to 300. */
static char sa[1024], sb[1024];

static void part_string(void)
{
    for (int i = 0; i < 1023; i++) {
        sa[i] = (char)(rnd() % 250 + 1);
    }
    sa[1023] = 0;
    for (int len = 0; len < 300; len += 7) {
        for (int off = 0; off < 33; off += 3) {
            memset(sb, 0, sizeof(sb));
            memcpy(sb + off, sa + (len % 17), (size_t)len);
            sb[off + len] = 0;
            uint32_t v[8];
            v[0] = (uint32_t)strlen(sb + off);
            v[1] = (uint32_t)memcmp(sb + off, sa + (len % 17), (size_t)len);
            const char *c = strchr(sb + off, sa[len % 31 + 5]);
            v[2] = c ? (uint32_t)(c - sb) : 0xffffffffu;
            const char *q = memchr(sb + off, sa[len % 29 + 3], (size_t)len);
            v[3] = q ? (uint32_t)(q - sb) : 0xffffffffu;
            int s = strcmp(sb + off, sa + (len % 17));
            v[4] = (uint32_t)(s > 0) - (uint32_t)(s < 0);
            memmove(sb + off + 5, sb + off, (size_t)len);
            v[5] = (uint32_t)strlen(sb);
            memset(sb + off, (char)len, (size_t)(len / 2));
            const char *r = strrchr(sb, (char)len);
            v[6] = r ? (uint32_t)(r - sb) : 0xffffffffu;
            v[7] = (uint32_t)strnlen(sb + off, 100);
            mix(v, sizeof(v));
            mix(sb, sizeof(sb));
        }
    }
    char tmp[400];
    strcpy(tmp, sa + 700); /* 323 bytes and the NUL */
    mix(tmp, strlen(tmp));
    report("string");
}

int main(void)
{
    part_scalar();
    part_vector();
    part_mxcsr();
    part_string();
    printf("SSECHECK done\n");
    return 0;
}
