package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.influence4j.api.Backend;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.backend.pytorch.PtBackendProvider;
import org.influence4j.calculators.influence.DirectInfluence;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Perturbation influences on the PyTorch backend (float64, a trained tanh MLP on digits) are the
 * derivatives in x of the UP influences with H held fixed: compared with central differences.
 */
class PerturbationInfluenceTest {

    private static final Logger LOG = LoggerFactory.getLogger(PerturbationInfluenceTest.class);

    @Test
    void perturbationEqualsFiniteDifferencesOfUpInfluences() {
        DigitsMlpFixture data = new DigitsMlpFixture(40, 3, 4);
        Backend backend = new PtBackendProvider().create();
        int d = 64;
        int m = data.test.size();
        Batch points = data.train.slice(0, 4);
        int n = points.size();
        double h = 1e-5;
        try (TwiceDifferentiable model = backend.createModel(data.spec, data.spec.initialParameters(1));
             TensorScope scope = backend.newScope()) {
            data.train(model, 3, 1);
            // λ = 1: after 3 epochs H has eigenvalues down to about −0.6, and Direct refuses an indefinite H + λI
            try (DirectInfluence influence = new DirectInfluence(model, 1.0);
                 DirectInfluence chunked = new DirectInfluence(model, new InfluenceOptions(1.0, 3))) {
                influence.fit(new InMemoryDataSource(data.train));
                Tensor pert = influence.influences(data.test, points, InfluenceMode.PERTURBATION, scope);
                assertArrayEquals(new long[] {m, n, d}, pert.shape());
                double[] got = pert.toDoubleArray();
                Tensor factors = influence.influenceFactors(data.test, scope);
                // chunks of 3 training samples (4 points span two chunks); needs no fit
                assertArrayEquals(got, chunked.influencesFromFactors(factors, points, InfluenceMode.PERTURBATION,
                        scope).toDoubleArray(), 1e-12);
                double num = 0;
                double den = 0;
                double worst = 0;
                double scale = 0;
                // ∇θℓ(train_i) depends on x_i only: feature f of every point is perturbed at once
                for (int f = 0; f < d; f++) {
                    double[] xp = points.x().clone();
                    double[] xm = points.x().clone();
                    for (int i = 0; i < n; i++) {
                        xp[i * d + f] += h;
                        xm[i * d + f] -= h;
                    }
                    double[] up = influence.influencesFromFactors(factors, new Batch(xp, d, points.y(), 1),
                            InfluenceMode.UP, scope).toDoubleArray();
                    double[] um = influence.influencesFromFactors(factors, new Batch(xm, d, points.y(), 1),
                            InfluenceMode.UP, scope).toDoubleArray();
                    for (int i = 0; i < n; i++) {
                        for (int t = 0; t < m; t++) {
                            double fd = (up[t * n + i] - um[t * n + i]) / (2 * h);
                            double v = got[(t * n + i) * d + f];
                            num += (fd - v) * (fd - v);
                            den += fd * fd;
                            worst = Math.max(worst, Math.abs(fd - v));
                            scale = Math.max(scale, Math.abs(fd));
                        }
                    }
                }
                double rel = Math.sqrt(num / den);
                LOG.info("perturbation vs central differences: relative L2 error {}, max error / max value {}", rel,
                        worst / scale);
                assertTrue(rel < 1e-4, "relative L2 error " + rel);
                assertTrue(worst / scale < 1e-4, "max error relative to max value " + worst / scale);
            }
        }
    }
}
