package org.influence4j.api.provenance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.influence4j.api.data.Batch;
import org.influence4j.api.data.InMemoryDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvenanceTest {

    /** Digests from Python: hashlib.sha256(b'abc'), hashlib.sha256(struct.pack('<3d', 1.0, -2.5, 0.1)). */
    @Test
    void fingerprintsAreTheSha256OfPythonAndSha256sum(@TempDir Path dir) throws Exception {
        String abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assertEquals(abc, Fingerprints.sha256("abc"));
        Path file = Files.write(dir.resolve("abc.txt"), "abc".getBytes(StandardCharsets.UTF_8));
        assertEquals(abc, Fingerprints.sha256(file));
        assertEquals("71da1541228ec3b80f80a42910c0512bc24ce229e09875fa2684836df5f229ee",
                Fingerprints.sha256(new double[] {1.0, -2.5, 0.1}));
    }

    /**
     * 5,000 samples come in two batches (4,096 + 904): the fingerprint is the digest of the sizes and of
     * all features and all labels as whole arrays, so the split does not matter.
     */
    @Test
    void aDataFingerprintDependsOnTheContentNotOnTheBatches() {
        int n = 5000;
        double[] x = new double[2 * n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = -0.5 * i;
            y[i] = i % 3;
        }
        Batch data = new Batch(x, 2, y, 1);
        String whole = Fingerprints.sha256(new InMemoryDataSource(data));
        assertEquals(Fingerprints.sha256(n + ",2,1:" + Fingerprints.sha256(x) + ":" + Fingerprints.sha256(y)), whole);
        double[] relabelled = y.clone();
        relabelled[n - 1] = 1 - relabelled[n - 1];
        assertNotEquals(whole, Fingerprints.sha256(new InMemoryDataSource(new Batch(x, 2, relabelled, 1))));
        double[] moved = x.clone();
        moved[0] = 0.5;
        assertNotEquals(whole, Fingerprints.sha256(new InMemoryDataSource(new Batch(moved, 2, y, 1))));
    }

    @Test
    void theRunIdDependsOnTheIdentityOnlyAndNotOnTheOrderOfTheFields() {
        Provenance a = Provenance.empty().with("lambda", 0.1).with("method", "cg");
        Provenance b = Provenance.empty().with("method", "cg").with("lambda", 0.1)
                .withDiagnostic("solver", Map.of("converged", true));
        assertEquals(a.runId(), b.runId());
        assertEquals(16, a.runId().length());
        assertNotEquals(a.runId(), a.with("lambda", 5.0).runId());
        assertEquals(List.of(), a.differences(b));
    }

    @Test
    void differencesNameEveryFieldWithBothValues() {
        Provenance recorded = Provenance.empty().with("lambda", 0.1).with("method", "cg").with("old", "x");
        Provenance now = Provenance.empty().with("lambda", 5.0).with("method", "cg").with("new", "y");
        assertEquals(List.of("lambda is 0.1 there but 5.0 now", "new is missing there (now y)",
                "old is x there but not set now"), now.differences(recorded));
        ProvenanceMismatchException e = assertThrows(ProvenanceMismatchException.class,
                () -> now.requireSameRun("the store s.zarr", recorded));
        assertEquals("the store s.zarr holds the result of another run: lambda is 0.1 there but 5.0 now; new is"
                + " missing there (now y); old is x there but not set now; delete it or write to another place to"
                + " start afresh", e.getMessage());
        assertTrue(e.withRemedy("rerun with --overwrite").getMessage().endsWith("; rerun with --overwrite"));
        assertEquals(3, e.withRemedy("x").differences().size());
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Provenance.empty().with(" ", 1));
        assertThrows(IllegalArgumentException.class, () -> Provenance.empty().with("a", null));
        assertThrows(IllegalArgumentException.class, () -> Provenance.empty().withDiagnostic("", 1));
    }
}
