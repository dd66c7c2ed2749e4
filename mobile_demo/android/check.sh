#!/usr/bin/env bash
# The Android demo's checks that need no Android SDK, with the versions of gradle/libs.versions.toml.
#
#   check.sh compile        every file of app/src/main/java through javac --release 17 -Xlint:all -Werror
#                           against the real libraries from Maven Central (android.jar for compileSdk
#                           35 = Robolectric's android-all, classes.jar of each AAR), then the manifest
#                           through Debian's aapt2 against the framework resources of API 29.
#   check.sh test [ASSETS]  the JUnit suite with Maven Surefire, on the assets in ASSETS (default
#                           app/src/main/assets): the core, OnnxRunner + Verifier on every .onnx on the
#                           desktop onnxruntime, then the real MainActivity under Robolectric (the
#                           manifest merged with onnxruntime-android's by AGP's merger, resource APKs of
#                           those assets and of broken copies of them linked by aapt2).
#
# Downloads go through Maven's cache (~/.m2); copies and outputs go to build/ (gitignored). One run
# at a time per checkout: a second waits for the first (flock on build/.check.lock).
# EXECUTORCH_AAR=path/to/executorch-android.aar (or a jar of its classes) stands in for Maven Central
# where that does not serve org.pytorch:executorch-android.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
catalog="$here/gradle/libs.versions.toml"
out="$here/build/android-check"
robo="$here/build/robolectric"

die() { echo "error: $*" >&2; exit 2; }

lock() {  # build/ holds one run's outputs: runs of this checkout take turns
  mkdir -p "$here/build"
  exec 9>"$here/build/.check.lock"
  if ! flock -n 9; then
    echo "waiting for another check.sh run in $here to finish (build/ is in use)" >&2
    flock 9
  fi
}

executorch_classes() {  # EXECUTORCH_AAR, checked before any work: one line naming the variable if it is unusable
  local f="${EXECUTORCH_AAR:-}" entries
  [ -n "$f" ] || return 0
  [ -f "$f" ] || die "EXECUTORCH_AAR=$f is not a file; point it at executorch-android's .aar (or a jar of its classes), or unset it"
  entries="$(jar tf "$f" 2>/dev/null)" \
    || die "EXECUTORCH_AAR=$f is not an .aar or .jar (not a zip archive); point it at executorch-android's .aar, or unset it"
  case "$f" in
    *.aar) grep -qx "classes.jar" <<<"$entries" \
             || die "EXECUTORCH_AAR=$f has no classes.jar, so it is not an Android library (.aar); point it at executorch-android's .aar, or unset it" ;;
    *) grep -qx "org/pytorch/executorch/Module.class" <<<"$entries" \
         || die "EXECUTORCH_AAR=$f has no org/pytorch/executorch/Module.class; point it at executorch-android's .aar (or a jar of its classes), or unset it" ;;
  esac
}

version() {  # the [versions] entry NAME of the catalog: one `NAME = "VALUE"` line
  local v
  v="$(sed -n "s/^$1 *= *\"\([^\"]*\)\".*/\1/p" "$catalog")"
  [ -n "$v" ] || die "gradle/libs.versions.toml has no version \"$1\""
  echo "$v"
}

fetch() {  # fetch G:A:V[:PACKAGING] into $out/libs; prints the file, or one line naming what is missing
  local coord="$1" log="$out/mvn-${1//:/_}.log" a v p
  IFS=: read -r _ a v p <<<"$coord"
  local file="$out/libs/$a-$v.${p:-jar}"
  mkdir -p "$out/libs"
  if [ -s "$file" ]; then echo "$file"; return; fi  # copied by an earlier run (the name holds the version)
  # From $out: a folder without pom.xml, so Maven runs the goal on its own.
  if (cd "$out" && mvn -B -ntp -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
        -Dartifact="$coord" -DoutputDirectory="$out/libs") >"$log" 2>&1; then
    echo "$file"
  elif grep -q "Could not find artifact\|Could not find metadata\|was not found in" "$log"; then
    echo "missing: $coord is not served by the Maven repository mvn reaches here" >&2
  else
    echo "missing: $coord could not be downloaded, is Maven offline? ($log)" >&2
  fi
}

classes_of() {  # an AAR's classes.jar (extracted), or a jar as it is
  [ -f "$1" ] || die "$1 does not exist"
  local file dir
  file="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
  case "$file" in
    *.aar) dir="$out/aar/$(basename "$file" .aar)"
           mkdir -p "$dir" && (cd "$dir" && jar xf "$file" classes.jar) && echo "$dir/classes.jar" ;;
    *) echo "$file" ;;
  esac
}

gradle_value() {  # e.g. `minSdk 26` in app/build.gradle
  sed -n "s/^ *$1 *\"\{0,1\}\([A-Za-z0-9._]*\)\"\{0,1\}.*/\1/p" "$here/app/build.gradle" | head -1
}

compile() {
  command -v javac >/dev/null || die "javac not found; install a JDK 17 (apt-get install openjdk-17-jdk-headless)"
  command -v mvn >/dev/null || die "mvn not found; install Maven (apt-get install maven)"
  command -v aapt2 >/dev/null || die "aapt2 not found; install Debian's aapt (apt-get install aapt)"
  executorch_classes
  rm -rf "$out/classes" && mkdir -p "$out/classes"
  local android ort et cp
  android="$(fetch "org.robolectric:android-all:$(version androidall)")"
  [ -n "$android" ] || die "no android.jar for compileSdk $(gradle_value compileSdk): nothing to compile against"
  ort="$(fetch "com.microsoft.onnxruntime:onnxruntime-android:$(version onnxruntime):aar")"
  if [ -z "$ort" ]; then  # one Java API (ai.onnxruntime), built from the same sources for both
    ort="$(fetch "com.microsoft.onnxruntime:onnxruntime:$(version onnxruntime)")"
    [ -n "$ort" ] || die "no ai.onnxruntime classes to compile OnnxRunner against"
    echo "note: OnnxRunner compiled against the desktop com.microsoft.onnxruntime:onnxruntime:$(version onnxruntime) (same Java API)"
  fi
  et="${EXECUTORCH_AAR:-$(fetch "org.pytorch:executorch-android:$(version executorch):aar")}"
  cp="$(classes_of "$android"):$(classes_of "$ort")"
  [ -z "$et" ] || cp="$cp:$(classes_of "$et")"
  local log="$out/javac.log" status=0
  find "$here/app/src/main/java" -name '*.java' | sort >"$out/sources.txt"
  # -classfile: android-all's class files name annotation classes it does not ship (UnsupportedAppUsage);
  # that lint is about the jar, every lint on our sources stays on.
  javac --release 17 -Xlint:all,-classfile -Werror -encoding UTF-8 -d "$out/classes" -cp "$cp" @"$out/sources.txt" >"$log" 2>&1 || status=$?
  if [ -n "$et" ]; then
    cat "$log"
    [ "$status" = 0 ] || die "javac failed on app/src/main/java (above)"
    echo "javac: all $(wc -l <"$out/sources.txt") files of app/src/main/java compile against android-all $(version androidall), onnxruntime $(version onnxruntime) and executorch-android $(version executorch)"
  else
    only_executorch_unresolved "$log" "$status"
  fi
  check_manifest
}

# Without ExecuTorch's classes javac can resolve nothing of org.pytorch.executorch: pass only when
# every error is that, in ExecuTorchRunner.java, so all other files are still fully checked.
only_executorch_unresolved() {
  local log="$1" status="$2" other
  other="$(grep -E '^[^ ].*\.java:[0-9]+: (error|warning)' "$log" | grep -v '/ExecuTorchRunner\.java:' || true)"
  if [ -n "$other" ] || ! grep -q "package org.pytorch.executorch does not exist" "$log"; then
    cat "$log"
    [ "$status" = 0 ] && die "javac compiled ExecuTorchRunner.java without ExecuTorch's classes: check the classpath"
    die "javac failed on app/src/main/java (above)"
  fi
  if grep -A3 '/ExecuTorchRunner\.java:' "$log" | grep -E '^[^ ].*: error' | grep -vqE 'package org\.pytorch\.executorch does not exist|cannot find symbol'; then
    cat "$log"; die "ExecuTorchRunner.java has errors besides the missing ExecuTorch classes (above)"
  fi
  echo "javac: $(($(wc -l <"$out/sources.txt") - 1)) files of app/src/main/java compile against android-all $(version androidall) and onnxruntime $(version onnxruntime)"
  echo "NOT CHECKED: ExecuTorchRunner.java's calls into ExecuTorch (org.pytorch:executorch-android:$(version executorch):aar not served here; set EXECUTORCH_AAR to check them)"
}

check_manifest() {  # what AGP's manifest merger adds (package from namespace, uses-sdk) comes from build.gradle
  local res manifest="$out/AndroidManifest.xml"
  res="$(fetch "org.robolectric:android-all:$(version androidallres)")"
  [ -n "$res" ] || die "no framework resources to check AndroidManifest.xml against"
  sed "s|<manifest |<manifest package=\"$(gradle_value namespace)\" |" "$here/app/src/main/AndroidManifest.xml" >"$manifest"
  aapt2 link --manifest "$manifest" -I "$res" --min-sdk-version "$(gradle_value minSdk)" \
    --target-sdk-version "$(gradle_value targetSdk)" -o "$out/manifest-only.apk" \
    || die "aapt2 refused app/src/main/AndroidManifest.xml (above)"
  echo "aapt2: AndroidManifest.xml links against the framework resources of API 29 (android-all $(version androidallres))"
}

# Robolectric reads the app as AGP hands it over: com/android/tools/test_config.properties naming the
# merged manifest and a resource APK (manifest + assets, from aapt2). One APK per assets variant.
robolectric_inputs() {
  local assets="$1" res cp merged="$robo/AndroidManifest.xml" v
  command -v aapt2 >/dev/null || die "aapt2 not found; install Debian's aapt (apt-get install aapt)"
  command -v python3 >/dev/null || die "python3 not found; it writes the broken copies of the assets"
  rm -rf "$robo" && mkdir -p "$robo/config/com/android/tools" "$robo/apk" "$robo/results"
  res="$(fetch "org.robolectric:android-all:$(version androidallres)")"
  [ -n "$res" ] || die "no framework resources to link the resource APKs against"
  mvn -B -ntp -q -f "$here/jvm/manifest-merger.xml" -Dmanifestmerger.version="$(version manifestmerger)" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.outputFile="$robo/merger-classpath.txt" \
    >"$robo/merger-mvn.log" 2>&1 || die "could not fetch the manifest merger ($robo/merger-mvn.log)"
  sed "s|<manifest |<manifest package=\"$(gradle_value namespace)\" |" "$here/app/src/main/AndroidManifest.xml" >"$robo/app-manifest.xml"
  java -cp "$(cat "$robo/merger-classpath.txt")" "$here/jvm/MergeManifest.java" "$robo/app-manifest.xml" \
    "$here/jvm/onnxruntime-android-manifest.xml" "$merged" "$(gradle_value applicationId)" \
    "$(gradle_value minSdk)" "$(gradle_value targetSdk)" || die "the manifest merger refused the app's manifest (above)"
  python3 "$here/jvm/asset_variants.py" "$assets" "$robo/assets"
  for v in default broken other-shape no-manifest; do
    local dir="$robo/assets/$v"
    [ "$v" = default ] && dir="$assets"
    aapt2 link --manifest "$merged" -I "$res" -A "$dir" -o "$robo/apk/$v.apk" \
      || die "aapt2 could not link the resource APK of the $v assets (above)"
  done
  printf '%s\n' "android_merged_manifest=$merged" "android_merged_assets=$assets" \
    "android_resource_apk=$robo/apk/default.apk" "android_custom_package=$(gradle_value namespace)" \
    >"$robo/config/com/android/tools/test_config.properties"
  fetch_sdk "org.robolectric:android-all-instrumented:$(version robolectricsdk)"
  local monitor
  monitor="$(fetch "androidx.test:monitor:$(version androidxtestmonitor):aar")"
  [ -n "$monitor" ] || die "no androidx.test:monitor, which Robolectric needs"
  cp "$(classes_of "$monitor")" "$robo/androidx-test-monitor.jar"
}

fetch_sdk() {  # into Maven's cache only: Robolectric reads the jar there (pom.xml, robolectric.dependency.dir)
  (cd "$robo" && mvn -B -ntp -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get -Dartifact="$1" -Dtransitive=false) \
    >"$robo/sdk-mvn.log" 2>&1 || die "could not fetch $1, the Android framework Robolectric runs ($robo/sdk-mvn.log)"
}

run_tests() {
  local assets="${1:-$here/app/src/main/assets}"
  command -v mvn >/dev/null || die "mvn not found; install Maven (apt-get install maven)"
  [ -f "$assets/manifest.json" ] || die "$assets has no manifest.json; run \`python -m export --embed\` or pass an assets folder"
  assets="$(cd "$assets" && pwd)"
  mkdir -p "$out"
  robolectric_inputs "$assets"
  mvn -B -ntp -f "$here/pom.xml" -Donnxruntime.version="$(version onnxruntime)" -Dorgjson.version="$(version orgjson)" \
    -Djunit.version="$(version junit)" -Dandroidall.version="$(version androidall)" \
    -Drobolectric.version="$(version robolectric)" -Drobolectric.sdk.version="$(version robolectricsdk)" \
    -Dmnist.assets="$assets" -Dmnist.robolectric="$robo" test dependency:build-classpath
}

case "${1:-}" in
  compile) lock; compile ;;
  test) lock; run_tests "${2:-}" ;;
  *) die "usage: check.sh compile | check.sh test [ASSETS_DIR]" ;;
esac
