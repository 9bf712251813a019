package org.influence4j.api.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Removal of folders with everything under them (temporary work folders, arrays written afresh). */
public final class FileTrees {

    private FileTrees() {
    }

    /**
     * Deletes {@code path} and, if it is a folder, everything under it, deepest first; a missing
     * {@code path} is nothing to delete. Symbolic links are deleted, not followed.
     *
     * @throws IOException when a file or folder cannot be deleted (what was deleted before stays deleted)
     */
    public static void delete(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> deepestFirst;
        try (Stream<Path> paths = Files.walk(path)) {
            deepestFirst = paths.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : deepestFirst) {
            Files.deleteIfExists(p);
        }
    }
}
