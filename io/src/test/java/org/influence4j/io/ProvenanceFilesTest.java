package org.influence4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.influence4j.api.internal.Json;
import org.influence4j.api.provenance.Provenance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProvenanceFilesTest {

    @Test
    void theJsonFormRoundTripsThroughSidecarFiles(@TempDir Path dir) throws Exception {
        Provenance p = Provenance.empty().with("lambda", 0.1).with("train.sha256", "ab")
                .withDiagnostic("solver", Map.of("max_iterations", 12L));
        Path result = dir.resolve("out.npy");
        ProvenanceFiles.writeSidecar(result, p);
        assertEquals(dir.resolve("out.npy.provenance.json"), ProvenanceFiles.sidecar(result));
        Provenance read = ProvenanceFiles.read(ProvenanceFiles.sidecar(result)).orElseThrow();
        assertEquals(p, read);
        Object json = Json.parse(Files.readString(ProvenanceFiles.sidecar(result)));
        assertEquals(p.runId(), ((Map<?, ?>) json).get("run_id"));
        assertTrue(ProvenanceFiles.read(dir.resolve("missing.json")).isEmpty());
    }

    @Test
    void malformedRecordsAreOneLineErrorsNamingTheFile(@TempDir Path dir) throws Exception {
        for (String text : List.of("[1, 2]", "{\"format\": \"other\"}", "{\"format\": \"influence4j-provenance/1\"}",
                "{\"format\": \"influence4j-provenance/1\", \"identity\": {\"a\": 1}}",
                "{\"format\": \"influence4j-provenance/1\", \"identity\": {}, \"diagnostics\": 3}", "{", "")) {
            Path file = Files.writeString(dir.resolve("bad.json"), text);
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> ProvenanceFiles.read(file));
            assertTrue(e.getMessage().startsWith("provenance record " + file), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
        Path latin1 = Files.write(dir.resolve("latin1.json"), new byte[] {'{', (byte) 0xE9, '}'});
        assertTrue(assertThrows(java.io.IOException.class, () -> ProvenanceFiles.read(latin1)).getMessage()
                .contains("not UTF-8"));
    }
}
