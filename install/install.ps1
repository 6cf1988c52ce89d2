<#
.SYNOPSIS
Sets up DS Export on Windows: a private Python environment, the helper registered with every
browser found, the demo, and the one manual step (loading the extension).

.DESCRIPTION
1. Finds Python 3.10 or newer (DSEXPORT_PYTHON, then "py -3", python3, python).
2. Creates or reuses a virtual environment in %LOCALAPPDATA%\dsexport\venv (DS Export's data
   folder, dsexport.paths.data_dir()).
3. Installs DS Export into it: this checkout, or what -From names; re-running upgrades in place.
4. Runs "dsexport install": host manifests under %LOCALAPPDATA%\dsexport and HKCU registry keys
   for Chrome, Chromium, Edge and Firefox (Brave, Vivaldi and Opera read Chrome's key), and a
   copy of the extension the package carries in %LOCALAPPDATA%\dsexport\extension. With no
   supported browser it says what to install and exits with status 3.
5. Runs "dsexport demo" when Chromium is installed; if the demo fails it says why and goes on.
6. Prints how to load the extension, with the exact folder ("dsexport extension").

Browser knowledge lives in Python (dsexport\installer\browsers.py), not in this script.

.PARAMETER Uninstall
Remove exactly what "dsexport install" recorded (manifests, registry keys, launcher), then the
virtual environment. "--uninstall" works too. Saved images, settings and the catalog are kept.

.PARAMETER NoDemo
Skip the demo. "--no-demo" or the environment variable DSEXPORT_NO_DEMO=1 do the same.

.PARAMETER From
What pip installs instead of this checkout: a wheel, a folder or a requirement ("--from" too).

.NOTES
Any other argument goes to "dsexport install", e.g. --browser edge, --dry-run, --system
(--system needs an administrator PowerShell and writes HKLM).

.EXAMPLE
powershell -ExecutionPolicy Bypass -File install\install.ps1

.EXAMPLE
powershell -ExecutionPolicy Bypass -File install\install.ps1 -NoDemo --browser edge

.EXAMPLE
powershell -ExecutionPolicy Bypass -File install\install.ps1 -Uninstall
#>
# No [CmdletBinding()]: it would reject "--browser" and the like instead of leaving them in $args.
# -From is read from $args below: a [string] parameter here would take "--browser" by position.
param(
    [switch]$Uninstall,
    [switch]$NoDemo
)
# 'Continue', not 'Stop': Windows PowerShell 5.1 turns a native command's redirected stderr into
# errors, which 'Stop' would make fatal. Every native call checks $LASTEXITCODE instead.
$ErrorActionPreference = 'Continue'

$Repo = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
# Exit status when DS Export is installed but no supported browser was found to register.
$ExitNoBrowser = 3
$DataDir = Join-Path $env:LOCALAPPDATA 'dsexport'
$Venv = Join-Path $DataDir 'venv'
$VenvPython = Join-Path $Venv 'Scripts\python.exe'
$DsExport = Join-Path $Venv 'Scripts\dsexport.exe'

$Rest = @()
$DryRun = $false
$From = $null
for ($i = 0; $i -lt $args.Count; $i++) {
    $a = [string]$args[$i]
    switch ($a) {
        '--uninstall' { $Uninstall = $true }
        '--no-demo' { $NoDemo = $true }
        { $_ -in '--from', '-From' } { $i++; $From = [string]$args[$i] }
        default {
            if ($a -eq '--dry-run') { $DryRun = $true }
            $Rest += $a
        }
    }
}
if (-not $From) {
    if (Test-Path (Join-Path $Repo 'pyproject.toml')) { $From = $Repo } else { $From = 'dsexport' }
}
if ($env:DSEXPORT_NO_DEMO -eq '1') { $NoDemo = $true }

function Fail([string]$Message) {
    [Console]::Error.WriteLine("install.ps1: $Message")
    exit 1
}

if ($Uninstall) {
    if (Test-Path $DsExport) {
        & $DsExport uninstall @Rest
        if ($LASTEXITCODE -ne 0) { Fail "dsexport uninstall failed (see above)." }
    } else {
        Write-Host "No DS Export environment at $Venv; nothing registered by it to remove."
    }
    # --uninstall --browser NAME: other browsers still registered keep using the environment.
    if ((Test-Path (Join-Path $DataDir 'install-state.json')) -or $DryRun) {
        Write-Host "The environment $Venv stays: other browsers still use it."
        exit 0
    }
    if (Test-Path $Venv) {
        Remove-Item -Recurse -Force -ErrorAction Stop $Venv
        Write-Host "Removed the environment $Venv."
    }
    if ((Test-Path $DataDir) -and -not (Get-ChildItem -Force $DataDir)) { Remove-Item $DataDir }
    Write-Host 'Your saved images, settings and catalog are kept. Remove the extension itself at'
    Write-Host 'chrome://extensions (or about:addons in Firefox).'
    exit 0
}

# ------------------------------------------------------------------ 1. Python >= 3.10
$Python = $null
$Candidates = @()
if ($env:DSEXPORT_PYTHON) { $Candidates += , @($env:DSEXPORT_PYTHON) }
$Candidates += , @('py', '-3')
$Candidates += , @('python3')
$Candidates += , @('python')
foreach ($c in $Candidates) {
    $exe = $c[0]
    $pre = @($c | Select-Object -Skip 1)
    if (-not (Get-Command $exe -ErrorAction SilentlyContinue)) { continue }
    # The Microsoft Store "python" alias prints nothing and fails: it is skipped like a missing one.
    $found = & $exe @pre -c 'import sys; print(sys.executable) if sys.version_info >= (3, 10) else sys.exit(1)' 2>$null
    if ($LASTEXITCODE -eq 0 -and $found) { $Python = ([string]$found).Trim(); break }
}
if (-not $Python) {
    Fail ("DS Export needs Python 3.10 or newer, and none was found. Install it from " +
        "https://www.python.org/downloads/ (tick 'Add python.exe to PATH') or with " +
        "'winget install Python.Python.3.12', or set DSEXPORT_PYTHON to its python.exe, then run this again.")
}
Write-Host "Python: $Python"

# ------------------------------------------------------------------ 2. private environment
if ((Test-Path $Venv) -and -not (Test-Path $VenvPython)) {
    Write-Host "The environment in $Venv is broken; recreating it."
    Remove-Item -Recurse -Force -ErrorAction Stop $Venv
}
if ((Test-Path $VenvPython)) {
    & $VenvPython -c 'pass' 2>$null
    if ($LASTEXITCODE -ne 0) {
        Write-Host "The environment in $Venv no longer starts (its Python was removed?); recreating it."
        Remove-Item -Recurse -Force -ErrorAction Stop $Venv
    }
}
if (-not (Test-Path $Venv)) {
    Write-Host "Creating the environment $Venv"
    New-Item -ItemType Directory -Force -ErrorAction Stop -Path $DataDir | Out-Null
    & $Python -m venv $Venv
    if ($LASTEXITCODE -ne 0) { Fail "could not create a virtual environment with $Python." }
}

# ------------------------------------------------------------------ 3. install / upgrade
Write-Host "Installing DS Export from $From"
& $VenvPython -m pip install --quiet --disable-pip-version-check --upgrade $From
if ($LASTEXITCODE -ne 0) { Fail "pip could not install DS Export into $Venv (see its message above; no network?)." }

# ------------------------------------------------------------------ 4. register with browsers
& $DsExport install @Rest
$Status = $LASTEXITCODE
if ($DryRun) { exit $Status }
if ($Status -eq $ExitNoBrowser) {
    Write-Host ''
    Write-Host 'DS Export is installed, but no supported browser was found, so it is not registered yet.'
    Write-Host 'Install Microsoft Edge, Google Chrome (winget install Google.Chrome), Brave or Firefox'
    Write-Host '(winget install Mozilla.Firefox), start it once, then run this script again.'
    exit $ExitNoBrowser
}
if ($Status -ne 0) { Fail "'dsexport install' failed with status $Status (see above). Fix that, then run this script again." }

# ------------------------------------------------------------------ 5. demo
$Chromium = $null
foreach ($name in @('chromium', 'chromium-browser')) {
    if (Get-Command $name -ErrorAction SilentlyContinue) { $Chromium = $name; break }
}
$ChromiumExe = Join-Path $env:LOCALAPPDATA 'Chromium\Application\chrome.exe'
if (-not $Chromium -and (Test-Path $ChromiumExe)) { $Chromium = $ChromiumExe }
if ($NoDemo) {
    Write-Host 'Demo skipped (-NoDemo).'
} elseif (-not $Chromium) {
    Write-Host 'Demo skipped: it drives Chromium, and no Chromium was found.'
} else {
    Write-Host "Running the demo (a bundled sample conversation, saved by the real extension in $Chromium)..."
    if (Get-Command $Chromium -ErrorAction SilentlyContinue) { $Chromium = (Get-Command $Chromium).Source }
    & $DsExport demo --browser $Chromium
    if ($LASTEXITCODE -ne 0) {
        Write-Host "The demo failed with exit status $LASTEXITCODE; its messages above say why."
        Write-Host "DS Export itself is installed; '$DsExport doctor' checks the browser side."
    }
}

# ------------------------------------------------------------------ 6. the manual step
$Extension = ([string](& $DsExport extension --folder)).Trim()
if ($LASTEXITCODE -ne 0 -or -not $Extension) { Fail "'dsexport extension' failed (see above)." }
Write-Host ''
Write-Host 'DS Export is installed. One step is left: load the extension into your browser.'
Write-Host '  Chrome, Chromium, Edge, Brave, Vivaldi, Opera: open chrome://extensions (Edge: edge://extensions),'
Write-Host '  switch on "Developer mode", click "Load unpacked" and choose the folder'
Write-Host "      $Extension"
Write-Host '  Firefox: open about:debugging#/runtime/this-firefox, click "Load Temporary Add-on..." and'
Write-Host '  choose the file'
Write-Host "      $Extension\manifest.json"
Write-Host "  ('$DsExport' extension shows this again, with the .xpi that keeps it across restarts.)"
Write-Host "Then check every browser end to end with:  & '$DsExport' doctor"
