package org.influence4j.benchmarks;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.influence4j.api.Backend;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.DataSource;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.internal.FileTrees;
import org.influence4j.api.inversion.Curvature;
import org.influence4j.api.inversion.InverseHvpSolver;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.calculators.attribution.InfluenceFunctionAttribution;
import org.influence4j.calculators.influence.EkfacCurvature;
import org.influence4j.calculators.influence.EkfacInfluence;
import org.influence4j.calculators.influence.EkfacOptions;
import org.influence4j.calculators.influence.InfluenceOptions;
import org.influence4j.calculators.influence.InverseHessianInfluence;
import org.influence4j.calculators.inversion.ArnoldiOptions;
import org.influence4j.calculators.inversion.ArnoldiSolver;
import org.influence4j.calculators.inversion.CgOptions;
import org.influence4j.calculators.inversion.ConjugateGradientSolver;
import org.influence4j.calculators.inversion.DirectSolver;
import org.influence4j.calculators.tracin.CheckpointLoader;
import org.influence4j.calculators.tracin.TracInCP;
import org.influence4j.calculators.tracin.TracInCPFast;
import org.influence4j.calculators.tracin.TracInCheckpoints;
import org.influence4j.calculators.tracin.TracInOptions;
import org.influence4j.calculators.training.MinibatchOptions;
import org.influence4j.calculators.training.MinibatchTrainer;
import org.influence4j.calculators.training.Optimizer;
import org.influence4j.io.Idx;

/**
 * The Fashion-MNIST rows of the performance issue's query table (its build item 4): the CNN of
 * {@code examples/fashion-mnist-cnn} ({@link CnnBenchmarks#CNN}, 11,978 parameters, float32) on the
 * first 2,000 training and 500 test images of Debian's {@code dataset-fashion-mnist} (pixels / 255,
 * held as float32), trained with SGD (lr 0.05, batch 32, 8 epochs, seed 3, a checkpoint every 2
 * epochs: 4) from the initial parameters of seed 5; λ = 0.01. Rows: TracInCP and TracInCPFast
 * self-influence (2,000) and influences (500 × 2,000), Arnoldi rank 50 (Gauss-Newton) fit with and
 * without precomputed factors (without them, the data passes keep their forward passes within the
 * default {@link InfluenceOptions#keptStateBytes()}: 208 MB here), and influences,
 * the EK-FAC fit and influences, and Arnoldi rank 50 (fit; influences), block CG and Direct (fit and
 * influences) on the empirical Fisher (the matrix of pyDVL's "Gauss-Newton" rows), next to the Captum and pyDVL seconds where it gives them.
 * Run by {@link QueryTable} after the digits rows when the data set is installed.
 */
final class FashionQueryTable {

    /** Where Debian's dataset-fashion-mnist puts the IDX files. */
    static final Path DATA = Path.of("/usr/share/datasets/fashion-mnist");
    static final int TRAIN = 2000;
    static final int TEST = 500;
    static final double LAMBDA = 0.01;
    /** The queries of this table, for {@link QueryTable}'s row filter. */
    static final List<String> ROWS = List.of("cnn tracincp self-influence 2,000", "cnn tracincp influences 500 x 2,000",
            "cnn tracincpfast self-influence", "cnn tracincpfast influences",
            "cnn arnoldi rank 50 (gn) fit", "cnn arnoldi rank 50 (gn, precompute) fit",
            "cnn arnoldi rank 50 (gn, precompute) influences", "cnn ek-fac fit", "cnn ek-fac influences (fitted)",
            "cnn block cg (empirical fisher) influences 500 x 2,000 (fit + scores)",
            "cnn direct (empirical fisher) influences 500 x 2,000 (fit + scores)",
            "cnn arnoldi rank 50 (empirical fisher) fit", "cnn arnoldi rank 50 (empirical fisher) influences");

    private FashionQueryTable() {
    }

    /** @return whether the images are installed */
    static boolean available() {
        return Files.isRegularFile(DATA.resolve("train-images-idx3-ubyte.gz"));
    }

    /**
     * Trains the CNN, fits the influence models once and prints the rows whose query contains
     * {@code wanted}, with ratios to {@code references} where given ({@link QueryTable#print}).
     */
    static void run(Backend backend, int runs, String wanted, Optional<ReferenceSeconds> references, PrintStream out)
            throws Exception {
        ModelSpec spec = ModelSpec.fromJson(CnnBenchmarks.CNN);
        Batch train = images("train", TRAIN);
        Batch test = images("t10k", TEST);
        InMemoryDataSource trainSource = new InMemoryDataSource(train);
        Path dir = Files.createTempDirectory("influence4j-fashion-table");
        try (TwiceDifferentiable model = backend.createModel(spec, spec.initialParameters(5))) {
            trainWithCheckpoints(model, trainSource, dir);
            TracInCheckpoints checkpoints = TracInCheckpoints.fromDirectory(dir, spec, CheckpointLoader.DEFAULT);
            TracInCP cp = new TracInCP(model, checkpoints, TracInOptions.defaults());
            TracInCPFast fast = new TracInCPFast(model, checkpoints, 256, false);
            // Gauss-Newton: the trained CNN's Hessian has negative eigenvalues among its 50 largest in
            // magnitude (-2.77 < -λ), which the library refuses for a low-rank inverse (pyDVL does not check)
            InfluenceOptions options = new InfluenceOptions(LAMBDA, 256, Curvature.GAUSS_NEWTON);
            EkfacOptions ekfacOptions = new EkfacOptions(LAMBDA, true, EkfacCurvature.FISHER, 256);
            InfluenceOptions fisher = new InfluenceOptions(LAMBDA, 256, Curvature.EMPIRICAL_FISHER);
            try (InverseHessianInfluence arnoldi = new InverseHessianInfluence(model, arnoldi(true), options);
                 InverseHessianInfluence fisherArnoldi = new InverseHessianInfluence(model, arnoldi(false), fisher);
                 EkfacInfluence ekfac = new EkfacInfluence(model, ekfacOptions)) {
                boolean fitArnoldi = wanted.isEmpty() || ROWS.get(6).contains(wanted);
                if (fitArnoldi) {
                    arnoldi.fit(trainSource);
                }
                if (wanted.isEmpty() || ROWS.get(12).contains(wanted)) {
                    fisherArnoldi.fit(trainSource);
                }
                if (wanted.isEmpty() || ROWS.get(8).contains(wanted)) {
                    ekfac.fit(trainSource);
                }
                List<QueryTable.Row> rows = List.of(
                        new QueryTable.Row(ROWS.get(0), 1.88, "Captum", 3, () -> cp.selfInfluence(trainSource)),
                        new QueryTable.Row(ROWS.get(1), 3.06, "Captum", 3,
                                () -> QueryTable.influences(cp, test, train, backend)),
                        new QueryTable.Row(ROWS.get(2), 0.30, "Captum", 3, () -> fast.selfInfluence(trainSource)),
                        new QueryTable.Row(ROWS.get(3), 1.12, "Captum", 3,
                                () -> QueryTable.influences(fast, test, train, backend)),
                        new QueryTable.Row(ROWS.get(4), 67.2, "pyDVL", 2, () -> arnoldiFit(model, false, options,
                                trainSource)),
                        new QueryTable.Row(ROWS.get(5), 67.2, "pyDVL", 2, () -> arnoldiFit(model, true, options,
                                trainSource)),
                        new QueryTable.Row(ROWS.get(6), 13.4, "pyDVL", 2,
                                () -> QueryTable.influences(new InfluenceFunctionAttribution(model, arnoldi, 256),
                                        test, train, backend)),
                        new QueryTable.Row(ROWS.get(7), Double.NaN, "", 0, () -> {
                            try (EkfacInfluence fresh = new EkfacInfluence(model, ekfacOptions)) {
                                return fresh.fit(trainSource).isFitted();
                            }
                        }),
                        new QueryTable.Row(ROWS.get(8), Double.NaN, "", 0,
                                () -> QueryTable.influences(new InfluenceFunctionAttribution(model, ekfac, 256),
                                        test, train, backend)),
                        new QueryTable.Row(ROWS.get(9), Double.NaN, "pyDVL", 2, () -> {
                            // pyDVL's CgInfluence(second_order_mode=GAUSS_NEWTON, solve_simultaneously=True):
                            // its "Gauss-Newton" is the empirical Fisher; the default rtol of a float32 operator
                            return fisherInfluences(model, new ConjugateGradientSolver(
                                    CgOptions.defaults().withBlock(true)), trainSource, train, test, backend);
                        }),
                        // pyDVL's DirectInfluence(second_order_mode=GAUSS_NEWTON) forms the dense p x p matrix;
                        // influence4j inverts the 2,000 gradients' 2,000 x 2,000 matrix (Woodbury), exactly
                        new QueryTable.Row(ROWS.get(10), Double.NaN, "pyDVL", 2,
                                () -> fisherInfluences(model, new DirectSolver(), trainSource, train, test, backend)),
                        // pyDVL's second_order_mode=GAUSS_NEWTON is this matrix: the like-for-like Arnoldi rows
                        new QueryTable.Row(ROWS.get(11), 67.2, "pyDVL", 2, () -> {
                            try (InverseHessianInfluence fresh = new InverseHessianInfluence(model, arnoldi(false),
                                    fisher)) {
                                return fresh.fit(trainSource).isFitted();
                            }
                        }),
                        new QueryTable.Row(ROWS.get(12), 13.4, "pyDVL", 2,
                                () -> QueryTable.influences(new InfluenceFunctionAttribution(model, fisherArnoldi, 256),
                                        test, train, backend)));
                out.printf(Locale.ROOT, "%nFashion-MNIST CNN, p = %d, %d train x %d test images, float32, λ = %s, "
                        + "median of %d after a warm-up%n", spec.numParameters(), TRAIN, TEST, LAMBDA, runs);
                QueryTable.print(rows, runs, wanted, references, out);
            }
        } finally {
            FileTrees.delete(dir);
        }
    }

    /**
     * The table's training of the CNN: SGD (lr 0.05, batch 32, 8 epochs, seed 3), a checkpoint every
     * 2 epochs (4) written to {@code dir}.
     */
    static void trainWithCheckpoints(TwiceDifferentiable model, DataSource train, Path dir) {
        new MinibatchTrainer(MinibatchOptions.of(Optimizer.sgd(0.05), 8, 32, 3).withCheckpoints(dir, 2))
                .train(model, train);
    }

    /** @return the checksum of the influences of a fresh fit of {@code solver} on the empirical Fisher */
    private static double fisherInfluences(TwiceDifferentiable model, InverseHvpSolver solver,
                                           InMemoryDataSource trainSource, Batch train, Batch test, Backend backend) {
        try (InverseHessianInfluence fitted = new InverseHessianInfluence(model, solver,
                new InfluenceOptions(LAMBDA, 256, Curvature.EMPIRICAL_FISHER))) {
            fitted.fit(trainSource);
            return QueryTable.influences(new InfluenceFunctionAttribution(model, fitted, 256), test, train, backend);
        }
    }

    /**
     * pyDVL's Arnoldi with rank 50; with {@code precompute}, keeping the Gauss-Newton factors (958 MB
     * here): every Lanczos step is then two matrix products instead of a data pass.
     */
    private static ArnoldiSolver arnoldi(boolean precompute) {
        ArnoldiOptions pyDvl = ArnoldiOptions.ofRank(50);
        return new ArnoldiSolver(new ArnoldiOptions(pyDvl.rankEstimate(), pyDvl.krylovDimension(), pyDvl.tol(),
                pyDvl.maxIterations(), pyDvl.seed(), precompute, pyDvl.allowUnconverged()));
    }

    /** @return whether a fresh Arnoldi fit (with or without precompute) succeeded */
    private static boolean arnoldiFit(TwiceDifferentiable model, boolean precompute, InfluenceOptions options,
                                      InMemoryDataSource train) {
        try (InverseHessianInfluence fresh = new InverseHessianInfluence(model, arnoldi(precompute), options)) {
            return fresh.fit(train).isFitted();
        }
    }

    /** @return the first {@code n} images of a split as float32 [n, 1, 28, 28], scaled to [0, 1], with their labels */
    static Batch images(String split, int n) throws IOException {
        HostArray pixels = Idx.read(DATA.resolve(split + "-images-idx3-ubyte.gz"), n);
        HostArray labels = Idx.read(DATA.resolve(split + "-labels-idx1-ubyte.gz"), n);
        float[] x = pixels.floats().clone();
        for (int i = 0; i < x.length; i++) {
            x[i] /= 255f;
        }
        return new Batch(HostArray.ofFloats(x, n, 1, 28, 28), labels.data(), 1);
    }
}
