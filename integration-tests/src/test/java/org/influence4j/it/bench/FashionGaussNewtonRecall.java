package org.influence4j.it.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.HessianOperator;
import org.influence4j.api.inversion.InverseHessian;
import org.influence4j.api.inversion.InverseHvpResult;
import org.influence4j.api.model.Loss;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;
import org.influence4j.calculators.inversion.DataHessianOperator;
import org.influence4j.calculators.inversion.PreconditionerKind;
import org.influence4j.it.FashionCnnFixture;

/**
 * Mislabel recall of <b>Gauss-Newton self-influence</b> {@code s_i = g_iᵀ (G + λI)⁻¹ g_i} (λ = 0.01) on
 * the Fashion CNN protocol of {@link FashionCnnFixture} (2,000 images, 10% flipped labels, the last SGD
 * checkpoint) — a main, not a test: it needs about 1.5e12 flop and 2 GB of memory, beyond the test
 * suite's budget.
 *
 * <p>CG with Gauss-Newton products over the 2,000 images would cost about 1e14 flop for 2,000
 * right-hand sides (each product is a pass over the data per direction). For softmax cross-entropy
 * the Gauss-Newton matrix has a closed form, so it is materialised once: with {@code p_ic} the
 * model's class probabilities and {@code g_ic = ∇θ ℓ(x_i, c)} the per-sample gradient for label c,
 * {@code Jᵀ(diag p − p pᵀ)J = Σ_c p_c ∇log p_c ∇log p_cᵀ}, so
 * {@code G = (1/n) Σ_i Σ_c p_ic g_ic g_icᵀ}: ten batched per-sample-gradient passes and one GEMM per
 * chunk on the backend. Then:
 * <ol>
 *   <li>{@code G v} is checked against the library's own Gauss-Newton products
 *       ({@link DataHessianOperator} with {@link Curvature#GAUSS_NEWTON}) on two random directions;</li>
 *   <li>the library's {@link ConjugateGradientSolver} (with its rank-200 Nyström preconditioner) runs
 *       over the operator {@code v ↦ (G + λI) v} for 2,000 right-hand sides, the per-sample gradients,
 *       in blocks; every block must converge (rtol 1e-4: products with the float32 matrix carry
 *       rounding of about 1e-5 relative, so the float32 default 1e-5 is missed by some rows);</li>
 *   <li>for 40 sampled rows the CG values are compared with an exact float64 Cholesky solve (EJML);</li>
 *   <li>recall at 10% inspected is printed for the CG self-influence.</li>
 * </ol>
 *
 * <pre>
 * mvn -B -o -q -pl integration-tests -am test-compile -DskipTests
 * mvn -B -o -q -pl integration-tests dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test
 * java -Xmx6g -Dai.djl.offline=true -cp integration-tests/target/test-classes:$(cat /tmp/cp.txt) \
 *      org.influence4j.it.bench.FashionGaussNewtonRecall
 * </pre>
 */
public final class FashionGaussNewtonRecall {

    private static final double LAMBDA = 0.01;
    private static final int CHUNK = 250;
    private static final int CLASSES = 10;
    private static final int CHECKED = 40;
    private static final int RANK = 200;
    private static final double RTOL = 1e-4;

    private FashionGaussNewtonRecall() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("fashion-gn");
        FashionCnnFixture fashion = FashionCnnFixture.train(Path.of("examples", "fashion-mnist-cnn"), dir);
        try (TwiceDifferentiable model = fashion.model(); TensorScope scope = model.backend().newScope()) {
            model.setParameters(fashion.checkpoints().parameters(fashion.checkpoints().size() - 1));
            Batch train = fashion.train();
            int n = train.size();
            int p = model.numParameters();
            long start = System.nanoTime();
            Tensor gram = gaussNewtonMatrix(model, train, scope);
            System.out.printf("Gauss-Newton matrix %d x %d from %d images in %.1f s%n", p, p, n, seconds(start));

            // 1. G v against the library's Gauss-Newton products
            DataSource data = new InMemoryDataSource(train);
            Materialised operator = new Materialised(model, data, gram, LAMBDA);
            double[] v = new SplittableRandom(3).doubles(2L * p, -1, 1).toArray();
            try (Tensor vs = scope.fromArray(v, model.spec().dtype(), 2, p);
                 Tensor exact = new DataHessianOperator(model, data, LAMBDA, CHUNK, Curvature.GAUSS_NEWTON)
                         .apply(vs, scope);
                 Tensor mine = operator.apply(vs, scope)) {
                System.out.printf("G v vs the library's Gauss-Newton products: relative error %.2e%n",
                        relativeError(exact.toDoubleArray(), mine.toDoubleArray()));
            }

            // 2. CG over (G + λI) for every training gradient
            start = System.nanoTime();
            double[] self = new double[n];
            int iterations = 0;
            double worst = 0;
            // rank-200 Nyström preconditioner: the Gauss-Newton spectrum decays fast, so CG needs few iterations;
            // rtol 1e-4: products with the float32 matrix carry rounding of about 1e-5 relative at this conditioning
            // (a true residual of 1.6e-5 was seen at 1e-5), so float32 default 1e-5 is not reachable for every row
            CgOptions options = new CgOptions(RTOL, CgOptions.DEFAULT_ATOL, 0, false, PreconditionerKind.NYSTROEM, RANK,
                    16, 0, false, false);
            try (InverseHessian inverse = new ConjugateGradientSolver(options).prepare(operator)) {
                for (int from = 0; from < n; from += CHUNK) {
                    int to = Math.min(n, from + CHUNK);
                    try (TensorScope chunk = model.backend().newScope()) {
                        Tensor g = model.perSampleGradients(train.slice(from, to), chunk);
                        InverseHvpResult result = inverse.solve(g, chunk);
                        if (!result.info().converged()) {
                            throw new IllegalStateException("CG did not converge on rows " + from + ".." + to + ": "
                                    + result.info());
                        }
                        iterations = Math.max(iterations, result.info().iterations());
                        worst = Math.max(worst, Arrays.stream(result.info().residuals()).max().orElse(0));
                        System.arraycopy(result.x().rowDots(g).toDoubleArray(), 0, self, from, to - from);
                    }
                }
            }
            System.out.printf("CG (rtol %s) over G + %sI for %d right-hand sides in %.1f s: at most %d iterations,"
                    + " worst true relative residual %.2e%n", RTOL, LAMBDA, n, seconds(start), iterations, worst);

            // 3. CG values against an exact float64 solve on sampled rows
            start = System.nanoTime();
            int[] rows = new SplittableRandom(5).ints(CHECKED, 0, n).toArray();
            double[] exact = exactSelfInfluence(operator, train.select(rows), model, scope);
            double maxRel = 0;
            for (int k = 0; k < rows.length; k++) {
                maxRel = Math.max(maxRel, Math.abs(self[rows[k]] - exact[k]) / Math.abs(exact[k]));
            }
            System.out.printf("CG self-influence vs float64 Cholesky on %d rows: max relative difference %.2e (%.1f s)%n",
                    CHECKED, maxRel, seconds(start));

            System.out.printf("mislabel recall at 10%% inspected, Gauss-Newton CG self-influence (λ = %s): %.3f;"
                    + " random 0.10%n", LAMBDA, fashion.recallAtTenPercent(self));
        }
    }

    /** @return {@code G = (1/n) Σ_i Σ_c p_ic g_ic g_icᵀ} {@code [p, p]} in the model dtype, owned by {@code scope} */
    static Tensor gaussNewtonMatrix(TwiceDifferentiable model, Batch train, TensorScope scope) {
        int n = train.size();
        Tensor gram = null;
        for (int from = 0; from < n; from += CHUNK) {
            Batch chunk = train.slice(from, Math.min(n, from + CHUNK));
            try (TensorScope work = model.backend().newScope()) {
                double[] probabilities = Loss.softmaxRows(model.forward(chunk, work).toDoubleArray(), CLASSES);
                Tensor rows = null;
                for (int c = 0; c < CLASSES; c++) {
                    double[] labels = new double[chunk.size()];
                    Arrays.fill(labels, c);
                    double[] weights = new double[chunk.size()];
                    for (int i = 0; i < weights.length; i++) {
                        weights[i] = Math.sqrt(probabilities[i * CLASSES + c] / n);
                    }
                    Tensor scaled = model.perSampleGradients(new Batch(chunk.features(), labels, 1), work)
                            .scaleRows(work.fromArray(weights, model.spec().dtype(), weights.length));
                    rows = rows == null ? scaled : rows.concat(scaled);
                }
                Tensor part = rows.transpose().matmul(rows);
                if (gram == null) {
                    gram = part.moveTo(scope);
                } else {
                    Tensor sum = gram.add(part); // in gram's scope
                    gram.close();
                    gram = sum;
                }
            }
        }
        return gram;
    }

    /** @return {@code g_iᵀ (G + λI)⁻¹ g_i} for the samples of {@code batch}, by a float64 Cholesky solve */
    private static double[] exactSelfInfluence(Materialised operator, Batch batch, TwiceDifferentiable model,
                                               TensorScope scope) {
        int p = operator.dimension();
        DMatrixRMaj a;
        try (Tensor m = operator.toMatrix(scope)) {
            a = DMatrixRMaj.wrap(p, p, m.toDoubleArray());
        }
        LinearSolverDense<DMatrixRMaj> chol = LinearSolverFactory_DDRM.chol(p);
        if (!chol.setA(a)) {
            throw new IllegalStateException("G + λI is not positive definite");
        }
        int k = batch.size();
        double[] g = model.perSampleGradients(batch, scope).toDoubleArray();
        DMatrixRMaj b = new DMatrixRMaj(p, k);
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < p; j++) {
                b.set(j, i, g[i * p + j]);
            }
        }
        DMatrixRMaj x = new DMatrixRMaj(p, k);
        chol.solve(b, x);
        double[] out = new double[k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < p; j++) {
                out[i] += g[i * p + j] * x.get(j, i);
            }
        }
        return out;
    }

    private static double relativeError(double[] expected, double[] actual) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < expected.length; i++) {
            num += (expected[i] - actual[i]) * (expected[i] - actual[i]);
            den += expected[i] * expected[i];
        }
        return Math.sqrt(num / den);
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    /** {@code v ↦ (G + λI) v} with G held as a dense symmetric matrix on the backend. */
    private static final class Materialised implements HessianOperator {
        private final TwiceDifferentiable model;
        private final DataSource data;
        private final Tensor gram;
        private final double lambda;
        private long passes;

        Materialised(TwiceDifferentiable model, DataSource data, Tensor gram, double lambda) {
            this.model = model;
            this.data = data;
            this.gram = gram;
            this.lambda = lambda;
        }

        @Override
        public int dimension() {
            return model.numParameters();
        }

        @Override
        public DType dtype() {
            return model.spec().dtype();
        }

        @Override
        public double regularization() {
            return lambda;
        }

        @Override
        public TwiceDifferentiable model() {
            return model;
        }

        @Override
        public DataSource data() {
            return data;
        }

        @Override
        public Tensor apply(Tensor vs, TensorScope scope) {
            passes++;
            boolean vector = vs.rank() == 1;
            Tensor rows = vector ? vs.reshape(1, vs.shape()[0]) : vs;
            try (Tensor product = rows.matmul(gram)) { // G symmetric: v G = (G vᵀ)ᵀ
                Tensor out = product.axpy(lambda, rows).moveTo(scope);
                return vector ? out.reshape(vs.shape()[0]) : out;
            }
        }

        @Override
        public Tensor toMatrix(TensorScope scope) {
            passes++;
            try (Tensor eye = scope.eye(DType.FLOAT64, dimension()); Tensor g = gram.toType(DType.FLOAT64)) {
                return g.axpy(lambda, eye);
            }
        }

        @Override
        public long passes() {
            return passes;
        }
    }
}
