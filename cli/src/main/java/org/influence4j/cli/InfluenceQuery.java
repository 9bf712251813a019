package org.influence4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import org.influence4j.api.TensorScope;
import org.influence4j.api.Tensor;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.influence4j.api.influence.InfluenceFunctionModel;
import org.influence4j.api.influence.InfluenceMode;
import org.influence4j.api.data.HostArray;
import org.influence4j.api.progress.ProgressListener;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.api.provenance.ProvenanceMismatchException;
import org.influence4j.api.model.ModelSpec;
import org.influence4j.io.ParameterFiles;
import org.influence4j.calculators.attribution.InfluenceFunctionAttribution;
import org.influence4j.calculators.attribution.TopK;
import org.influence4j.calculators.attribution.TopKOrder;
import org.influence4j.calculators.attribution.TrainingDataAttribution;
import org.influence4j.calculators.chunked.ChunkedArray;
import org.influence4j.calculators.chunked.ChunkedData;
import org.influence4j.calculators.chunked.InfluenceWorker;
import org.influence4j.calculators.chunked.LazyChunkSequence;
import org.influence4j.calculators.chunked.SequentialInfluenceCalculator;
import org.influence4j.calculators.chunked.ZarrSink;

/**
 * The computations behind {@code influences}, {@code self-influence}, {@code top-k} and
 * {@code compare}: fit the configured influence model on the training data and evaluate it.
 * Shapes and sign as {@link InfluenceFunctionModel}: {@code [m, n]}, positive = proponent.
 */
final class InfluenceQuery {

    private InfluenceQuery() {
    }

    /**
     * The model and data of a query.
     *
     * @param spec       the model spec with the buffers of the parameter file (use it, not the spec
     *                   file's), or {@code null} for TorchScript
     * @param parameters θ of {@code --parameters}, or {@code null} when none were given
     * @param train      the training data, checked against the spec
     * @param test       the test data, checked against the spec, or {@code null}
     */
    record Data(ModelSpec spec, double[] parameters, Batch train, Batch test) {
    }

    /**
     * Reads the spec, the parameters (when given, by {@link ModelInput#readState}) and the data.
     *
     * @param test       {@code --test}: a CSV file or array features, or {@code null}
     * @param testLabels {@code --test-labels}, or {@code null}
     */
    static Data read(ModelInput input, String test, String testLabels) throws IOException {
        ModelSpec spec = input.readSpec();
        double[] parameters = null;
        if (spec != null && input.hasParameters()) {
            ParameterFiles.State state = input.readState(spec);
            spec = state.spec();
            parameters = state.parameters();
        }
        if (test == null && testLabels != null) {
            throw new IllegalArgumentException("--test-labels: given without --test");
        }
        Batch train = input.readTrain(spec);
        Batch testBatch = test == null ? null : input.read("--test", test, "--test-labels", testLabels, spec);
        return new Data(spec, parameters, train, testBatch);
    }

    /** @return the model of {@code data} on the session's backend ({@link ModelInput#open}) */
    static TwiceDifferentiable open(ModelInput input, BackendOptions.Session session, Data data) throws IOException {
        return input.open(session.backend(), data.spec(), data.parameters());
    }

    /**
     * The configured influence model, fitted on {@code train}, as a {@link TrainingDataAttribution}
     * ({@link InfluenceFunctionAttribution}); closing it closes the influence model.
     */
    record Fitted(InfluenceFunctionModel influence, InfluenceFunctionAttribution attribution) implements AutoCloseable {

        @Override
        public void close() {
            influence.close();
        }
    }

    /**
     * Creates the configured influence model and fits it on {@code train}, reporting the fit (as one
     * task, or the method's own passes) and the adapter's scoring tasks as progress bars.
     */
    static Fitted fit(BackendOptions.Session session, TwiceDifferentiable model, Batch train, PrintWriter lines) {
        ProgressListener bars = new ProgressBars(lines);
        InfluenceFunctionModel influence = session.influenceModels().create(model, bars);
        try {
            bars.task("fit (" + session.settings().method().configName() + ")", 1, () -> {
                influence.fit(new InMemoryDataSource(train));
                bars.step(1);
                return influence;
            });
            return new Fitted(influence, new InfluenceFunctionAttribution(model, influence,
                    session.settings().batchSize(), bars));
        } catch (RuntimeException e) {
            influence.close();
            throw e;
        }
    }

    /**
     * A result with the provenance record of the run that computed it.
     *
     * @param value  the result
     * @param record the run's record with the influence model's configuration and solver diagnostics
     *               ({@link RunRecords#finished})
     */
    record Computed<T>(T value, Provenance record) {
    }

    /** @return influences {@code [m, n]} of the training points on the test points, row-major */
    static Computed<double[]> influences(BackendOptions.Session session, TwiceDifferentiable model, Batch train,
                                         Batch test, PrintWriter progress, Provenance record) {
        try (Fitted fitted = fit(session, model, train, progress);
             TensorScope scope = session.backend().newScope();
             Tensor values = fitted.attribution().influences(test, train, scope)) {
            return new Computed<>(values.toDoubleArray(), RunRecords.finished(record, fitted.influence()));
        }
    }

    /**
     * @return per order, the k strongest training points of every test point, streamed over training
     *     chunks (never the m × n matrix)
     */
    static Computed<List<TopK>> topK(BackendOptions.Session session, TwiceDifferentiable model, Batch train,
                                     Batch test, int k, List<TopKOrder> orders, PrintWriter progress,
                                     Provenance record) {
        try (Fitted fitted = fit(session, model, train, progress)) {
            return new Computed<>(fitted.attribution().topK(test, new InMemoryDataSource(train), k, orders),
                    RunRecords.finished(record, fitted.influence()));
        }
    }

    /**
     * Writes the influences {@code [m, n]} into a Zarr v2 store, block by block (test chunk × training
     * chunk of {@code chunkSize}), never holding the matrix in memory. The influence factors
     * {@code H⁻¹∇ℓ(test)} ({@code [m, p]}) are computed once, not once per training chunk. A store left
     * by an interrupted run with the same layout and the same provenance identity is resumed: complete
     * blocks are skipped; a store of another run is refused ({@link RunRecords#OVERWRITE}). The
     * finished record (with the solver diagnostics) is written into the store's {@code .zattrs}.
     *
     * @param record the identity of this run
     * @return the number of blocks skipped because they were already complete
     * @throws org.influence4j.api.provenance.ProvenanceMismatchException if the store holds another run
     */
    static long influencesToZarr(BackendOptions.Session session, TwiceDifferentiable model, Batch train, Batch test,
                                 int chunkSize, ZarrSink.Options store, Path directory, PrintWriter progress,
                                 Provenance record) throws IOException {
        RunRecords.requireResumable(directory, record);
        try (Fitted fitted = fit(session, model, train, progress)) {
            SequentialInfluenceCalculator calculator =
                    new SequentialInfluenceCalculator(InfluenceWorker.shared(fitted.influence(), model));
            HostArray factors = calculator.influenceFactors(ChunkedData.of(test, chunkSize)).compute();
            LazyChunkSequence blocks = calculator.influencesFromFactors(ChunkedArray.byRows(factors, chunkSize),
                    ChunkedData.of(train, chunkSize), InfluenceMode.UP);
            ZarrSink sink = ZarrSink.create(directory, store, record);
            long[] skipped = {0};
            ProgressBars bars = new ProgressBars(progress);
            try {
                // the bars of the blocks, named after the store; resumed blocks are counted for the summary
                blocks.writeTo(sink, new ProgressListener() {
                    @Override
                    public void started(String task, long totalSteps) {
                        bars.started(task + " (" + session.settings().method().configName() + ") → "
                                + directory.getFileName(), totalSteps);
                    }

                    @Override
                    public void resumed(long steps) {
                        skipped[0] = steps;
                        bars.resumed(steps);
                    }

                    @Override
                    public void step(long steps) {
                        bars.step(steps);
                    }

                    @Override
                    public void finished() {
                        bars.finished();
                    }
                });
            } catch (ProvenanceMismatchException e) {
                throw e.withRemedy(RunRecords.OVERWRITE);
            }
            sink.writeProvenance(RunRecords.finished(record, fitted.influence()));
            return skipped[0];
        }
    }

    /** @return self-influences {@code ⟨H⁻¹∇ℓ(z_i), ∇ℓ(z_i)⟩} of the training points, computed in chunks */
    static Computed<double[]> selfInfluences(BackendOptions.Session session, TwiceDifferentiable model, Batch train,
                                             PrintWriter progress, Provenance record) {
        try (Fitted fitted = fit(session, model, train, progress)) {
            return new Computed<>(fitted.attribution().selfInfluence(new InMemoryDataSource(train)),
                    RunRecords.finished(record, fitted.influence()));
        }
    }
}
