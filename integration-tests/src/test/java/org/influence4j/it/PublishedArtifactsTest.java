package org.influence4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The BOM lists exactly the modules that are deployed (those without {@code maven.deploy.skip}),
 * each at the project version, and has no parent, so importing it pins nothing else.
 */
class PublishedArtifactsTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    static Element pom(Path file) throws Exception {
        Document document = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
        return document.getDocumentElement();
    }

    /** The direct children of {@code parent} named {@code name}. */
    static List<Element> children(Element parent, String name) {
        List<Element> found = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                found.add(e);
            }
        }
        return found;
    }

    static String text(Element parent, String name) {
        List<Element> found = children(parent, name);
        return found.isEmpty() ? null : found.get(0).getTextContent().strip();
    }

    @Test
    void bomListsEveryDeployedModuleAndNothingElse() throws Exception {
        Element root = pom(ROOT.resolve("pom.xml"));
        Set<String> deployed = new TreeSet<>();
        Set<String> skipped = new TreeSet<>();
        for (Element module : children(children(root, "modules").get(0), "module")) {
            String dir = module.getTextContent().strip();
            if (dir.equals("bom")) {
                continue;
            }
            Element pom = pom(ROOT.resolve(dir).resolve("pom.xml"));
            List<Element> properties = children(pom, "properties");
            boolean skip = !properties.isEmpty() && "true".equals(text(properties.get(0), "maven.deploy.skip"));
            (skip ? skipped : deployed).add(text(pom, "artifactId"));
            assertTrue(text(pom, "description") != null, dir + "/pom.xml needs a description");
        }
        assertTrue(skipped.containsAll(Set.of("influence4j-integration-tests", "influence4j-benchmarks")),
                "not deployed: " + skipped);

        Element bom = pom(ROOT.resolve("bom/pom.xml"));
        assertTrue(children(bom, "parent").isEmpty(), "the BOM must not inherit the parent's dependencyManagement");
        assertEquals(text(root, "version"), text(bom, "version"), "bom/pom.xml version");
        Set<String> listed = new TreeSet<>();
        NodeList dependencies = bom.getElementsByTagName("dependency");
        for (int i = 0; i < dependencies.getLength(); i++) {
            Element dependency = (Element) dependencies.item(i);
            assertEquals(text(root, "groupId"), text(dependency, "groupId"));
            assertEquals("${project.version}", text(dependency, "version"), text(dependency, "artifactId"));
            assertTrue(listed.add(text(dependency, "artifactId")), "listed twice: " + text(dependency, "artifactId"));
        }
        assertFalse(listed.isEmpty());
        assertEquals(deployed, listed, "bom/pom.xml must list every deployed module");
    }
}
