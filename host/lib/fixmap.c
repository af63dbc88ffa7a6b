/* fixmap.c - float problem -> unit integers, and results -> real units.
 * The derivations are in docs/numerics.md ("From a float problem to integers"). */
#include "tspu_fixmap.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* largest shift s in [0, smax] with v * 2^s <= limit; -1 if v > limit */
static int fit_shift(double v, double limit, int smax)
{
    if (v > limit)
        return -1;
    if (v == 0.0)
        return smax;
    int s = (int)floor(log2(limit / v));
    if (s > smax)
        s = smax;
    while (s > 0 && v * ldexp(1.0, s) > limit)
        s--;
    return s;
}

uint32_t tspu_lambda_to_acc(double lambda)
{
    if (!(lambda > 0.0))
        return 0;
    if (lambda >= 1.0)
        return TSPU_LAMBDA_ACC_ONE;
    return (uint32_t)llround(lambda * 2147483648.0);
}

int tspu_map_problem(const tspu_problem *pr, tspu_mapping *mp,
                     tspu_model_config *cfg, char *err, size_t errlen)
{
    const unsigned n = pr->n;
    if (n < TSPU_N_MIN || n > TSPU_N_MAX)
        return fail(err, errlen, "N = %u is outside %d..%d", n, TSPU_N_MIN, TSPU_N_MAX);
    if (!(pr->beta > 0) || !isfinite(pr->beta))
        return fail(err, errlen, "beta must be positive and finite");
    if (!(pr->h > 0) || !isfinite(pr->h))
        return fail(err, errlen, "step h must be positive and finite");
    if (!(pr->x_range > 0) || !isfinite(pr->x_range))
        return fail(err, errlen, "x_range must be positive and finite");
    const int ud = pr->integrator == TSPU_INT_UD;
    if (ud && (!(pr->gamma > 0) || !(pr->mass > 0)))
        return fail(err, errlen, "underdamped needs friction gamma > 0 and mass > 0");

    memset(mp, 0, sizeof *mp);
    mp->n = n;
    const double sd_xi = sqrt((double)TSPU_NOISE_VAR);
    const int nsets = pr->A1 ? 2 : 1;

    /* noise scale fixes the LSB of the noisy variable exactly */
    double noise_sd, range;
    double c_ou = 0;
    if (!ud) {
        noise_sd = pr->integrator == TSPU_INT_EM ? sqrt(2.0 * pr->h / pr->beta)
                                                 : sqrt(pr->h / (2.0 * pr->beta));
        range = pr->x_range;
    } else {
        c_ou = exp(-pr->gamma * pr->h / pr->mass);
        noise_sd = sqrt((1.0 - c_ou * c_ou) * pr->mass / pr->beta);
        range = pr->p_range > 0 ? pr->p_range : 10.0 * sqrt(pr->mass / pr->beta);
    }
    /* largest Sn with 2^31 * noise_sd / (sd_xi 2^Sn) >= range */
    double ratio = 2147483648.0 * noise_sd / (sd_xi * range);
    if (ratio < 1.0)
        return fail(err, errlen,
                    "range %.3g is too wide for the noise step %.3g: the noise would "
                    "fall below one state LSB (use a larger step or smaller range)",
                    range, noise_sd);
    int sn = (int)floor(log2(ratio));
    if (sn > TSPU_NOISE_SHIFT_MAX)
        sn = TSPU_NOISE_SHIFT_MAX;
    const double lsb_noisy = noise_sd / (sd_xi * ldexp(1.0, sn));
    if (!ud) {
        mp->lsb_x = lsb_noisy;
        mp->lsb_f = lsb_noisy;
    } else {
        mp->lsb_p = lsb_noisy;
        mp->lsb_f = lsb_noisy;
        mp->lsb_x = pr->x_range / 2147483648.0;
    }
    mp->op_x = mp->lsb_x * 65536.0;
    mp->op_p = mp->lsb_p * 65536.0;
    mp->noise_step_sd = noise_sd;

    /* couplings: a = round(h A 2^D lsb_x / lsb_f); one D for both sets */
    const double kf = pr->h * mp->lsb_x / mp->lsb_f;
    double amax = 0;
    for (int k = 0; k < nsets; k++) {
        const double *A = k ? pr->A1 : pr->A0;
        for (unsigned i = 0; i < n * n; i++) {
            if (!isfinite(A[i]))
                return fail(err, errlen, "non-finite coupling entry");
            if (fabs(A[i] * kf) > amax)
                amax = fabs(A[i] * kf);
        }
    }
    int d = fit_shift(amax, 32767.0, TSPU_SHIFT_MAX);
    if (d < 0)
        return fail(err, errlen,
                    "h*A is too large for the coupling format (max |h A| scaled = %.3g > 32767)",
                    amax);
    for (int k = 0; k < nsets; k++) {
        const double *A = k ? pr->A1 : pr->A0;
        const double *b = k ? pr->b1 : pr->b0;
        for (unsigned i = 0; i < n * n; i++) {
            long v = lround(A[i] * kf * ldexp(1.0, d));
            mp->a[k][i] = (int16_t)v;
            mp->A_eff[k][i] = (double)v / (kf * ldexp(1.0, d));
        }
        for (unsigned i = 0; i < n; i++) {
            double bv = b ? b[i] : 0.0;
            if (!isfinite(bv))
                return fail(err, errlen, "non-finite bias entry");
            double bi = bv * pr->h / mp->lsb_f;
            if (fabs(bi) > 2147483647.0)
                return fail(err, errlen, "bias entry %g is outside the 32-bit bias format", bv);
            long long q = llround(bi);
            mp->b[k][i] = (int32_t)q;
            mp->b_eff[k][i] = (double)q * mp->lsb_f / pr->h;
        }
    }
    if (nsets == 1) {
        memcpy(mp->a[1], mp->a[0], sizeof mp->a[0]);
        memcpy(mp->b[1], mp->b[0], sizeof mp->b[0]);
        memcpy(mp->A_eff[1], mp->A_eff[0], sizeof mp->A_eff[0]);
        memcpy(mp->b_eff[1], mp->b_eff[0], sizeof mp->b_eff[0]);
    }
    mp->lsb_work = 65536.0 * mp->lsb_x * mp->lsb_f / pr->h;

    cfg->integrator = pr->integrator;
    cfg->drift_shift = (unsigned)d;
    cfg->noise_shift = (unsigned)sn;
    cfg->ka = cfg->ko = 0;
    cfg->ka_shift = cfg->ko_shift = 0;
    if (ud) {
        /* half drift: ka / 2^sa = (h / 2M) lsb_p / lsb_x */
        double va = pr->h / (2.0 * pr->mass) * mp->lsb_p / mp->lsb_x;
        /* friction: ko / 2^so = 1 - c */
        double vo = 1.0 - c_ou;
        int sa = fit_shift(va, 32767.0, TSPU_SHIFT_MAX);
        int so = fit_shift(vo, 32767.0, TSPU_SHIFT_MAX);
        if (sa < 0 || so < 0)
            return fail(err, errlen, "underdamped coefficients do not fit 16 bits");
        cfg->ka = (int16_t)lround(va * ldexp(1.0, sa));
        cfg->ka_shift = (unsigned)sa;
        cfg->ko = (int16_t)lround(vo * ldexp(1.0, so));
        cfg->ko_shift = (unsigned)so;
    }
    return 0;
}

int tspu_moments_to_real(const tspu_mapping *mp, const tspu_moments *mom,
                         double *mean, double *cov)
{
    const unsigned n = mp->n;
    if (mom->count < 2)
        return -1;
    const double cnt = (double)mom->count;
    for (unsigned i = 0; i < n; i++)
        mean[i] = (double)mom->sum[i] / cnt;
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i; j < n; j++, k++) {
            /* sums are exact integers; subtract the mean product in long double */
            long double s = (long double)mom->sumsq[k] -
                            (long double)mom->sum[i] * (long double)mom->sum[j] / cnt;
            double c = (double)(s / (cnt - 1.0));
            if (i == j)
                c -= 1.0 / 12.0; /* Sheppard: operand rounding adds 1/12 LSB^2 */
            cov[i * n + j] = cov[j * n + i] = c * mp->op_x * mp->op_x;
        }
    for (unsigned i = 0; i < n; i++)
        mean[i] *= mp->op_x;
    return 0;
}

/* ---- data-driven drift (docs/numerics.md, "Data-driven drift") ----------- */

/* the logistic link at z = (128 k - 2^15) lsb_z, in Q1.14 */
static double sigma(double t) { return t >= 0 ? 1.0 / (1.0 + exp(-t)) : exp(t) / (1.0 + exp(t)); }

/* the unit's interpolation (the same integers as model.c) */
static int32_t link_interp(const int16_t *t, int32_t z)
{
    const unsigned u = (unsigned)(z + 32768);
    const unsigned k = u >> TSPU_LINK_FRAC_BITS, f = u & ((1u << TSPU_LINK_FRAC_BITS) - 1);
    const int64_t v = ((int64_t)(t[k + 1] - t[k]) * f + (1 << (TSPU_LINK_FRAC_BITS - 1))) >> TSPU_LINK_FRAC_BITS;
    return (int32_t)(t[k] + v);
}

int tspu_map_data(const tspu_problem *pr, const tspu_mapping *mp,
                  const tspu_data_problem *dp, tspu_data_mapping *dm,
                  tspu_model_config *cfg, char *err, size_t errlen)
{
    const unsigned n = pr->n, k = dp->k;
    const int logistic = dp->mode == TSPU_DATA_LOGISTIC;
    if (dp->mode != TSPU_DATA_GAUSS && !logistic)
        return fail(err, errlen, "data mode must be Gaussian or logistic");
    if (n != mp->n || n < TSPU_N_MIN || n > TSPU_N_MAX)
        return fail(err, errlen, "the data problem and the prior mapping disagree on N");
    if (k < 1 || k > TSPU_DATA_MAX_OBS || (size_t)k * n > TSPU_DATA_MAX_WORDS)
        return fail(err, errlen, "%u observations of dimension %u: at most %u (and K*N <= %u)", k, n,
                    TSPU_DATA_MAX_OBS, TSPU_DATA_MAX_WORDS);
    if (!dp->X || !dp->y || (!logistic && !dp->ell))
        return fail(err, errlen, "missing X, y or (Gaussian) the precisions");
    memset(dm, 0, sizeof *dm);
    dm->k = k;
    double xmax = 0, ymax = 0, lmax = 0, zr = 0;
    for (unsigned d = 0; d < k; d++) {
        double row = 0;
        for (unsigned j = 0; j < n; j++) {
            const double v = dp->X[(size_t)d * n + j];
            if (!isfinite(v))
                return fail(err, errlen, "non-finite design entry X[%u][%u]", d, j);
            xmax = fmax(xmax, fabs(v));
            row += fabs(v);
        }
        zr = fmax(zr, row * pr->x_range);
        const double y = dp->y[d], l = dp->ell ? dp->ell[d] : 1.0;
        if (!isfinite(y) || (logistic && (y < 0 || y > 1)))
            return fail(err, errlen, "target y[%u] = %g is %s", d, y,
                        logistic ? "not a label in [0, 1]" : "not finite");
        if (!isfinite(l) || l < 0 || (!logistic && l == 0))
            return fail(err, errlen, "weight of observation %u is %g: it must be %s", d, l,
                        logistic ? ">= 0" : "a precision > 0");
        ymax = fmax(ymax, fabs(y));
        lmax = fmax(lmax, l);
    }
    if (xmax == 0)
        return fail(err, errlen, "the design matrix is all zero");
    if (lmax == 0)
        return fail(err, errlen, "every weight is zero");
    if (dp->z_range > 0)
        zr = dp->z_range;
    /* predictor range: z and (Gaussian) the residual y - z in 16 bits */
    const double need = (logistic ? zr : zr + ymax) / 32767.0;
    /* X at full precision; z as fine as that allows and still holds need */
    dm->lsb_X = xmax / 32767.0;
    int sr = (int)ceil(log2(need / (dm->lsb_X * mp->op_x)));
    if (sr < 0)
        sr = 0;
    while (sr > 0 && ldexp(dm->lsb_X * mp->op_x, sr - 1) >= need)
        sr--;
    while (ldexp(dm->lsb_X * mp->op_x, sr) < need)
        sr++;
    if (sr > TSPU_SHIFT_MAX)
        return fail(err, errlen, "predictor range %.3g needs Sr = %d > %d", zr, sr, TSPU_SHIFT_MAX);
    dm->lsb_z = ldexp(dm->lsb_X * mp->op_x, sr);
    dm->lsb_e = logistic ? 1.0 / TSPU_LINK_ONE : dm->lsb_z;
    /* weights: l = ell / lsb_l with lsb_l = 2^(16-c) lsb_f / (h lsb_X lsb_e),
     * c = Dd + Sg the largest with max l <= 32767 */
    const double v1 = lmax * pr->h * dm->lsb_X * dm->lsb_e / (65536.0 * mp->lsb_f);
    int c = (int)floor(log2(32767.0 / v1));
    while (v1 * ldexp(1.0, c) > 32767.0)
        c--;
    if (c > 2 * TSPU_SHIFT_MAX)
        c = 2 * TSPU_SHIFT_MAX;
    if (c < 0)
        return fail(err, errlen,
                    "the likelihood is too strong for the step (h * weight * X is %.3g times the "
                    "largest the format holds): use a smaller step", v1 / 32767.0);
    const long lmi = lround(v1 * ldexp(1.0, c)); /* largest l */
    int sg = 0;
    while ((1l << sg) <= lmi)
        sg++; /* 2^Sg > max l: |g| <= 32768 for any e */
    if (sg > c)
        sg = c; /* (Dd = 0) the data force is strong: g may clamp far from the data */
    int dd = c - sg;
    if (dd > TSPU_SHIFT_MAX) {
        dd = TSPU_SHIFT_MAX;
        c = sg + dd;
    }
    dm->lsb_l = ldexp(mp->lsb_f / (pr->h * dm->lsb_X * dm->lsb_e), 16 - c);
    for (unsigned d = 0; d < k; d++) {
        for (unsigned j = 0; j < n; j++) {
            const size_t i = (size_t)d * n + j;
            const long q = lround(dp->X[i] / dm->lsb_X);
            dm->x[i] = (int16_t)q;
            dm->X_eff[i] = (double)q * dm->lsb_X;
        }
        const long yq = lround(dp->y[d] / dm->lsb_e);
        if (labs(yq) > 32767)
            return fail(err, errlen, "target y[%u] = %g does not fit 16 bits", d, dp->y[d]);
        dm->y[d] = (int16_t)yq;
        dm->y_eff[d] = (double)yq * dm->lsb_e;
        const double l = dp->ell ? dp->ell[d] : 1.0;
        const long lq = lround(l / dm->lsb_l);
        if (lq == 0 && l > 0)
            return fail(err, errlen, "weight %g of observation %u rounds to 0 (the weights span too "
                        "wide a range for 16 bits)", l, d);
        dm->l[d] = (int16_t)lq;
        dm->ell_eff[d] = (double)lq * dm->lsb_l;
    }
    dm->lsb_work = logistic ? 0.0 : ldexp(dm->lsb_l * dm->lsb_e * dm->lsb_e, sg - 16);
    dm->link_err = 0;
    if (logistic) {
        for (unsigned t = 0; t < TSPU_LINK_TABLE_SIZE; t++)
            dm->table[t] = (int16_t)lround(TSPU_LINK_ONE * sigma(((double)t * 128.0 - 32768.0) * dm->lsb_z));
        for (int32_t z = -32768; z <= 32767; z++) {
            const double e = fabs((double)link_interp(dm->table, z) / TSPU_LINK_ONE - sigma(z * dm->lsb_z));
            dm->link_err = fmax(dm->link_err, e);
        }
    }
    cfg->data_mode = dp->mode;
    cfg->n_obs = k;
    cfg->data_sr = (unsigned)sr;
    cfg->data_sg = (unsigned)sg;
    cfg->data_dd = (unsigned)dd;
    return 0;
}
