package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

/**
 * {@code docs/ARCHITECTURE.md} agrees with the source tree: every backticked path in its prose
 * exists, every Maven module and every package with a {@code package-info.java} is named, and its
 * module table lists exactly the influence4j dependencies each pom declares (compile and test scope).
 * Reads files only; builds nothing.
 */
class ArchitectureDocTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern BACKTICKED = Pattern.compile("`([^`\\n]+)`");
    /** A backticked token is a path when it holds a '/' and only path characters (no spaces, {@code <>}, {@code *}). */
    private static final Pattern PATH = Pattern.compile("[A-Za-z0-9_.][A-Za-z0-9_./-]*/[A-Za-z0-9_./-]*");

    private static String doc;
    /** The page without its fenced code blocks. */
    private static String prose;

    @BeforeAll
    static void read() throws IOException {
        doc = Files.readString(ROOT.resolve("docs/ARCHITECTURE.md"), StandardCharsets.UTF_8);
        StringBuilder b = new StringBuilder();
        boolean fenced = false;
        for (String line : doc.split("\n", -1)) {
            if (line.startsWith("```")) {
                fenced = !fenced;
            } else if (!fenced) {
                b.append(line).append('\n');
            }
        }
        prose = b.toString();
    }

    private static Set<String> backticked(String text) {
        Set<String> out = new TreeSet<>();
        Matcher m = BACKTICKED.matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @Test
    void everyBacktickedPathExists() {
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (String token : backticked(prose)) {
            if (PATH.matcher(token).matches()) {
                checked++;
                if (!Files.exists(ROOT.resolve(token))) {
                    missing.add(token);
                }
            }
        }
        assertTrue(checked > 50, "expected the page to cite many paths, found " + checked);
        assertEquals(List.of(), missing, "docs/ARCHITECTURE.md cites paths that do not exist");
    }

    @Test
    void everyModuleAndEveryDocumentedPackageIsNamed() throws IOException {
        Set<String> named = backticked(prose);
        List<String> missing = new ArrayList<>();
        for (String module : modules()) {
            if (!named.contains(module)) {
                missing.add("module " + module);
            }
        }
        for (String pkg : packagesWithPackageInfo()) {
            if (!named.contains(pkg)) {
                missing.add("package " + pkg);
            }
        }
        assertEquals(List.of(), missing, "docs/ARCHITECTURE.md must name every module and package (in backticks)");
    }

    @Test
    void moduleTableListsThePomDependencies() throws Exception {
        Map<String, String[]> table = moduleTable();
        assertEquals(new TreeSet<>(modules()), table.keySet(), "the module table has one row per Maven module");
        for (String module : modules()) {
            Set<String> compile = new TreeSet<>();
            Set<String> test = new TreeSet<>();
            Element project = PublishedArtifactsTest.pom(ROOT.resolve(module).resolve("pom.xml"));
            for (Element deps : PublishedArtifactsTest.children(project, "dependencies")) {
                for (Element d : PublishedArtifactsTest.children(deps, "dependency")) {
                    String group = PublishedArtifactsTest.text(d, "groupId");
                    String artifact = PublishedArtifactsTest.text(d, "artifactId");
                    if (!("org.influence4j".equals(group) || "${project.groupId}".equals(group))
                            || !artifact.startsWith("influence4j-")) {
                        continue;
                    }
                    String name = artifact.substring("influence4j-".length());
                    ("test".equals(PublishedArtifactsTest.text(d, "scope")) ? test : compile).add(name);
                }
            }
            String[] row = table.get(module);
            assertEquals(compile, backticked(row[0]), module + ": 'depends on' must list the pom's influence4j"
                    + " dependencies of compile (and runtime) scope");
            assertEquals(test, backticked(row[1]), module + ": 'test scope only' must list the pom's influence4j"
                    + " test dependencies");
        }
    }

    /** @return the modules of the root pom, in order */
    private static List<String> modules() {
        try {
            Element root = PublishedArtifactsTest.pom(ROOT.resolve("pom.xml"));
            List<String> out = new ArrayList<>();
            for (Element m : PublishedArtifactsTest.children(PublishedArtifactsTest.children(root, "modules").get(0),
                    "module")) {
                out.add(m.getTextContent().strip());
            }
            assertFalse(out.isEmpty(), "the root pom lists modules");
            return out;
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the root pom.xml", e);
        }
    }

    /** @return the rows of the table under "### Modules": module → {depends on, test scope only} */
    private static Map<String, String[]> moduleTable() {
        int start = prose.indexOf("\n### Modules\n");
        assertTrue(start >= 0, "docs/ARCHITECTURE.md has a '### Modules' section");
        Map<String, String[]> rows = new TreeMap<>();
        boolean inTable = false;
        for (String line : prose.substring(start + 1).split("\n")) {
            if (line.startsWith("|")) {
                inTable = true;
                String[] cells = line.split("\\|", -1);
                assertEquals(6, cells.length, "a module row has four cells: " + line);
                Set<String> module = backticked(cells[1]);
                if (module.size() == 1) {
                    rows.put(module.iterator().next(), new String[] {cells[3], cells[4]});
                }
            } else if (inTable) {
                break;
            }
        }
        return rows;
    }

    /** @return the packages of every {@code package-info.java} outside build output */
    private static Set<String> packagesWithPackageInfo() throws IOException {
        Set<String> out = new TreeSet<>();
        Files.walkFileTree(ROOT, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                return !dir.equals(ROOT) && (name.equals("target") || name.startsWith("."))
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (file.getFileName().toString().equals("package-info.java")) {
                    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                        if (line.startsWith("package ")) {
                            out.add(line.substring("package ".length()).replace(";", "").strip());
                            break;
                        }
                    }
                }
                return FileVisitResult.CONTINUE;
            }
        });
        assertFalse(out.isEmpty(), "package-info.java files found under " + ROOT);
        return out;
    }
}
