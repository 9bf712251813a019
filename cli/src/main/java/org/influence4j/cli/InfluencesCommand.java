package org.influence4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.influence4j.api.TwiceDifferentiable;
import org.influence4j.api.provenance.Provenance;
import org.influence4j.calculators.chunked.ZarrSink;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code influence4j influences}: the influence matrix {@code [m, n]} of every training point on
 * every test point, written as {@code .npy} or {@code .csv}, or — for results too large for memory —
 * as a chunked Zarr v2 store (an output ending in {@code .zarr}: blocks of {@code --chunk-size}
 * test × training points computed and written one at a time, an interrupted run resumes; a store of
 * another run is refused unless {@code --overwrite}); every result carries its provenance record
 * ({@link RunRecords}); the
 * same numbers as {@link org.influence4j.api.influence.InfluenceFunctionModel#influences} with the
 * configured method, curvature, λ and batch size.
 */
@Command(name = "influences", description = "Influence of every training point on every test point, [m, n] (.npy,"
        + " .csv, or a chunked .zarr store for large results).")
final class InfluencesCommand implements Callable<Integer> {

    @Mixin
    QueryOptions query;

    @Option(names = {"-o", "--output"}, required = true, description = "Output: .npy or .csv file, or a .zarr"
            + " directory (chunked store, resumable).")
    Path output;

    @Option(names = "--chunk-size", defaultValue = "1024", description = ".zarr: test and training points per stored"
            + " block (default: ${DEFAULT-VALUE}).")
    int chunkSize;

    @Option(names = "--zlib", defaultValue = "0", description = ".zarr: zlib level 1..9 for the blocks, 0 = raw"
            + " (default: ${DEFAULT-VALUE}).")
    int zlib;

    @Option(names = "--overwrite", description = ".zarr: delete a store of another run (another model, data, method,"
            + " λ, … — see its provenance record) and start afresh; without it such a store is refused.")
    boolean overwrite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        boolean zarr = output.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".zarr");
        if (!zarr) {
            Output.requireKnownExtension(output);
        } else if (chunkSize <= 0) {
            throw new IllegalArgumentException("--chunk-size: must be > 0, got " + chunkSize);
        } else if (zlib < 0 || zlib > 9) {
            throw new IllegalArgumentException("--zlib: must be 0 (raw) or a zlib level 1..9, got " + zlib);
        }
        InfluenceQuery.Data data = query.read();
        BackendOptions.Session session = query.session();
        PrintWriter out = spec.commandLine().getOut();
        Provenance record = query.record("influences", session, data);
        if (zarr && overwrite) {
            ZarrSink.deleteArray(output);
        }
        try (TwiceDifferentiable model = query.open(session, data)) {
            if (zarr) {
                ZarrSink.Options store = ZarrSink.Options.defaults().withDType(model.spec().dtype());
                long skipped = InfluenceQuery.influencesToZarr(session, model, data.train(), data.test(), chunkSize,
                        zlib == 0 ? store : store.withZlib(zlib), output, spec.commandLine().getErr(),
                        record.with("zarr.chunk_size", chunkSize));
                out.printf("wrote influences [%d, %d] to the Zarr store %s (blocks of %d x %d%s)%n",
                        data.test().size(), data.train().size(), output, chunkSize, chunkSize,
                        skipped > 0 ? "; " + skipped + " complete blocks of an earlier run kept" : "");
                return 0;
            }
            InfluenceQuery.Computed<double[]> values = InfluenceQuery.influences(session, model, data.train(),
                    data.test(), spec.commandLine().getErr(), record);
            Output.write(output, values.value(), new long[] {data.test().size(), data.train().size()},
                    model.spec().dtype(), values.record());
        }
        out.printf("wrote influences [%d, %d] to %s%n", data.test().size(), data.train().size(), output);
        return 0;
    }
}
