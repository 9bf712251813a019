package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.InverseHessian;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.inversion.InversionException;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;
import org.influence4j.calculators.inversion.DataHessianOperator;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCPFast;
import org.influence4j.calculators.influence.EkfacCurvature;
import org.influence4j.calculators.influence.EkfacInfluence;
import org.influence4j.calculators.influence.EkfacOptions;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Fashion-MNIST CNN of {@code examples/fashion-mnist-cnn/model.json} (11,978 parameters) on
 * 2,000 training images with 10% of the labels flipped, trained with SGD and checkpoints, on
 * djl-pytorch: TracInCP self-influence equals a sample-by-sample computation, TracInCP and
 * TracInCPFast find flipped labels (recall at 10% inspected far above the 10% of random
 * inspection), and at λ = 0.01 CG on the Hessian (of the mean loss over 200 of the images, to keep
 * the test short) stops on negative curvature while CG on the Gauss-Newton matrix converges. Needs Debian's {@code dataset-fashion-mnist} (installed by
 * {@code .ci/run}); skipped where it is missing.
 */
class FashionCnnTest {

    private static final Logger LOG = LoggerFactory.getLogger(FashionCnnTest.class);
    private static final int TRAIN = FashionCnnFixture.TRAIN;

    @TempDir
    static Path dir;
    static FashionCnnFixture fashion;
    static TwiceDifferentiable model;
    static Batch train;
    static TracInCheckpoints checkpoints;

    @BeforeAll
    static void trainTheCnn() throws IOException {
        assumeTrue(Files.isReadable(FashionCnnFixture.DATA.resolve("train-images-idx3-ubyte.gz")),
                "Debian's dataset-fashion-mnist is not installed");
        fashion = FashionCnnFixture.train(Path.of("..", "examples", "fashion-mnist-cnn"), dir);
        assertEquals(11_978, fashion.spec().numParameters());
        model = fashion.model();
        train = fashion.train();
        checkpoints = fashion.checkpoints();
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    private static double recallAtTenPercent(double[] scores) {
        return fashion.recallAtTenPercent(scores);
    }

    @Test
    void tracInSelfInfluenceEqualsASampleBySampleSumAndFindsFlippedLabels() {
        long start = System.nanoTime();
        TracInCP tracin = new TracInCP(model, checkpoints, TracInOptions.defaults());
        double[] self = tracin.selfInfluence(new InMemoryDataSource(train));
        LOG.info("TracInCP self-influence of {} images over {} checkpoints in {} ms", TRAIN, checkpoints.size(),
                (System.nanoTime() - start) / 1e6);
        // independent: Σ_c η_c ‖∇θ ℓ_i(θ_c)‖², each gradient from a one-sample batch (the mean-loss path)
        double[] reference = new double[60];
        try (TensorScope scope = model.backend().newScope()) {
            for (int c = 0; c < checkpoints.size(); c++) {
                model.setParameters(checkpoints.parameters(c));
                for (int i = 0; i < reference.length; i++) {
                    try (Tensor g = model.gradient(train.slice(i, i + 1), scope)) {
                        reference[i] += checkpoints.learningRate(c) * g.dot(g);
                    }
                }
            }
        }
        for (int i = 0; i < reference.length; i++) {
            assertEquals(reference[i], self[i], 1e-4 * reference[i], "self-influence of image " + i);
        }
        double recall = recallAtTenPercent(self);
        start = System.nanoTime();
        double[] fast = new TracInCPFast(model, checkpoints, 500, true).selfInfluence(new InMemoryDataSource(train));
        double recallFast = recallAtTenPercent(fast);
        LOG.info("mislabel recall at 10% inspected: TracInCP {}, TracInCPFast {} ({} ms); random 0.10", recall,
                recallFast, (System.nanoTime() - start) / 1e6);
        assertTrue(recall > 0.3, "TracInCP recall " + recall);
        assertTrue(recallFast > 0.3, "TracInCPFast recall " + recallFast);
    }

    @Test
    void ekfacSelfInfluenceFindsFlippedLabels() {
        model.setParameters(checkpoints.parameters(checkpoints.size() - 1));
        long start = System.nanoTime();
        double[] self = new double[TRAIN];
        try (EkfacInfluence ekfac = new EkfacInfluence(model, new EkfacOptions(0.01, true, EkfacCurvature.FISHER,
                500))) {
            ekfac.fit(new InMemoryDataSource(train));
            long fitted = System.nanoTime();
            for (int from = 0; from < TRAIN; from += 500) {
                Batch chunk = train.slice(from, from + 500);
                try (TensorScope scope = model.backend().newScope()) {
                    Tensor factors = ekfac.influenceFactors(chunk, scope);
                    double[] values = factors.rowDots(model.perSampleGradients(chunk, scope)).toDoubleArray();
                    System.arraycopy(values, 0, self, from, values.length);
                }
            }
            LOG.info("EK-FAC fit on {} images in {} ms, self-influence in {} ms", TRAIN, (fitted - start) / 1e6,
                    (System.nanoTime() - fitted) / 1e6);
        }
        double recall = recallAtTenPercent(self);
        LOG.info("mislabel recall at 10% inspected: EK-FAC self-influence {}; random 0.10", recall);
        assertTrue(recall > 0.3, "EK-FAC recall " + recall);
    }

    @Test
    void gaussNewtonCgConvergesWhereTheHessianHasNegativeCurvature() {
        model.setParameters(checkpoints.parameters(checkpoints.size() - 1));
        InMemoryDataSource data = new InMemoryDataSource(train.slice(0, 200));
        double lambda = 0.01;
        // float32: the true residual (float64 norms) stops near 4e-6 while the recursion claims 1e-7, so
        // the default rtol would be an unconverged solve; 1e-5 is what the dtype allows
        CgOptions options = new CgOptions(1e-5, CgOptions.DEFAULT_ATOL, 400);
        try (TensorScope scope = model.backend().newScope();
             Tensor rhs = model.perSampleGradients(train.slice(1000, 1002), scope)) {
            DataHessianOperator hessian = new DataHessianOperator(model, data, lambda, 200, Curvature.HESSIAN);
            try (InverseHessian inverse = new ConjugateGradientSolver(options).prepare(hessian)) {
                InversionException e = assertThrows(InversionException.class, () -> inverse.solve(rhs, scope));
                LOG.info("Hessian CG at λ = {}: {}", lambda, e.getMessage());
                assertTrue(e.getMessage().contains("curvature"), e.getMessage());
            }
            long start = System.nanoTime();
            DataHessianOperator gn = new DataHessianOperator(model, data, lambda, 200, Curvature.GAUSS_NEWTON);
            try (InverseHessian inverse = new ConjugateGradientSolver(options).prepare(gn)) {
                InverseHvpResult result = inverse.solve(rhs, scope);
                LOG.info("Gauss-Newton CG at λ = {}: {} iterations, residuals {}, {} ms", lambda,
                        result.info().iterations(), java.util.Arrays.toString(result.info().residuals()), (System.nanoTime() - start) / 1e6);
                assertTrue(result.info().converged(), "Gauss-Newton CG did not converge: " + result.info());
                // the solution really solves (G + λI) x = b
                try (Tensor ax = gn.apply(result.x(), scope)) {
                    double[] r = ax.toDoubleArray();
                    double[] b = rhs.toDoubleArray();
                    double num = 0;
                    double den = 0;
                    for (int i = 0; i < b.length; i++) {
                        num += (r[i] - b[i]) * (r[i] - b[i]);
                        den += b[i] * b[i];
                    }
                    assertTrue(Math.sqrt(num / den) < 1e-3, "true residual " + Math.sqrt(num / den));
                }
                result.x().close();
            }
        }
    }
}
