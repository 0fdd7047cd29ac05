/* Floating-point kernel: an n-body simulation (double), a dense matrix multiply
 * and a single-precision polynomial/sqrt loop.  Prints results. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NB 5
static double x[NB], y[NB], z[NB], vx[NB], vy[NB], vz[NB], ms[NB];

static void advance(double dt)
{
    for (int i = 0; i < NB; i++)
        for (int j = i + 1; j < NB; j++) {
            double dx = x[i] - x[j], dy = y[i] - y[j], dz = z[i] - z[j];
            double d2 = dx * dx + dy * dy + dz * dz, mag = dt / (d2 * sqrt(d2));
            vx[i] -= dx * ms[j] * mag; vy[i] -= dy * ms[j] * mag; vz[i] -= dz * ms[j] * mag;
            vx[j] += dx * ms[i] * mag; vy[j] += dy * ms[i] * mag; vz[j] += dz * ms[i] * mag;
        }
    for (int i = 0; i < NB; i++) { x[i] += dt * vx[i]; y[i] += dt * vy[i]; z[i] += dt * vz[i]; }
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 10;
    for (int i = 0; i < NB; i++) {
        x[i] = i * 1.1; y[i] = i * 0.7 - 1; z[i] = (i % 2) * 0.3;
        vx[i] = 0.01 * i; vy[i] = -0.02 * i; vz[i] = 0.005; ms[i] = 1.0 + i;
    }
    for (int s = 0; s < 100000 * scale; s++) advance(0.001);
    int N = 160;
    double *a = malloc(N * N * sizeof(double)), *b = malloc(N * N * sizeof(double)), *c = calloc(N * N, sizeof(double));
    for (int i = 0; i < N * N; i++) { a[i] = (i % 17) * 0.25; b[i] = (i % 13) * 0.5 - 1; }
    for (int r = 0; r < scale; r++)
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++) {
                double aik = a[i * N + k];
                for (int j = 0; j < N; j++) c[i * N + j] += aik * b[k * N + j];
            }
    float f = 0;
    for (int i = 0; i < 1000000 * scale; i++) {
        float t = (float)(i % 1000) * 0.001f;
        f += sqrtf(t * t * t + 2.0f * t + 1.0f) / (1.0f + t);
    }
    printf("%.9f %.9f %.3f %.3f\n", x[0], vy[4], c[N * N / 2 + 3], f);
    return 0;
}
