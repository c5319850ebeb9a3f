<?php

declare(strict_types=1);

namespace Patron\Tests;

use Patron\ConflictException;
use Patron\Exception;
use Patron\FFI;
use Patron\Fields;
use Patron\LockedException;
use Patron\NotFoundException;
use Patron\StoreException;
use PHPUnit\Framework\TestCase;

/** The loader, the declarations against the headers, the error mapping. */
final class ApiTest extends TestCase
{
    private static function includeDir(): string
    {
        $env = getenv('PATRON_INCLUDE_DIR');
        return ($env !== false && $env !== '') ? $env : dirname(__DIR__, 3) . '/include/patron';
    }

    /** @return list<string> the PATRON_API functions of a header */
    private static function headerFunctions(string $file): array
    {
        $src = (string) file_get_contents($file);
        $src = (string) preg_replace('#/\*.*?\*/#s', '', $src);
        preg_match_all('/PATRON_API\b[^;(]*?\b(patron_\w+)\s*\(/', $src, $m);
        return $m[1];
    }

    public function testEveryFunctionOfTheHeadersIsDeclared(): void
    {
        $dir = self::includeDir();
        if (!is_file("$dir/patron.h")) {
            $this->markTestSkipped("no headers at $dir (set PATRON_INCLUDE_DIR)");
        }
        $declared = [];
        preg_match_all('/\b(patron_\w+)\s*\(/', FFI::DECLARATIONS, $m);
        foreach ($m[1] as $name) {
            $declared[$name] = true;
        }
        $missing = [];
        $n = 0;
        foreach (['patron.h', 'store.h', 'memory.h', 'review.h', 'privacy.h', 'batch.h'] as $h) {
            foreach (self::headerFunctions("$dir/$h") as $fn) {
                $n++;
                if (!isset($declared[$fn])) {
                    $missing[] = "$h: $fn";
                }
            }
        }
        $this->assertGreaterThan(100, $n, 'the headers were read');
        $this->assertSame([], $missing, 'declare these in Patron\FFI::DECLARATIONS');
        // (FFI::cdef() resolved every declared function in the library, or
        // the bootstrap would have failed.)
    }

    public function testStoreStructHasTheHeadersMembers(): void
    {
        $dir = self::includeDir();
        if (!is_file("$dir/store.h")) {
            $this->markTestSkipped("no headers at $dir");
        }
        $src = (string) preg_replace('#/\*.*?\*/#s', '', (string) file_get_contents("$dir/store.h"));
        preg_match('/typedef struct patron_store_ops \{(.*?)\} patron_store_ops;/s', $src, $m);
        preg_match_all('/\(\s*\*\s*(\w+)\s*\)/', $m[1], $members);
        $this->assertSame($members[1], array_keys(self::storeMembers()));
        preg_match('/#define PATRON_STORE_VERSION (\d+)/', $src, $v);
        $this->assertSame((int) $v[1], FFI::STORE_VERSION);
    }

    /** @return array<string,true> callback members of the binding's patron_store_ops, in order */
    private static function storeMembers(): array
    {
        preg_match('/typedef struct patron_store_ops \{(.*?)\} patron_store_ops;/s', FFI::DECLARATIONS, $m);
        preg_match_all('/\(\s*\*\s*(\w+)\s*\)/', $m[1], $members);
        return array_fill_keys($members[1], true);
    }

    public function testVersionAndFieldsComeFromTheLibrary(): void
    {
        $v = FFI::lib()->patron_version();
        $this->assertSame(FFI::EXPECTED_MAJOR, intdiv($v, 10000));
        $this->assertGreaterThanOrEqual(FFI::MINIMUM_VERSION, $v);
        $this->assertSame(1, Fields::id('id'));
        $this->assertSame(36, count(Fields::customer())); // 33 + consent proof (2) + erased_at, issue 16
        $this->assertArrayHasKey('postal_code', Fields::address());
        // kinds and flags come from the library too, not from a list in the binding
        $this->assertSame(FFI::lib()->patron_field_count(), count(Fields::customer()));
        $this->assertTrue(Fields::isSystem('revision'));
        $this->assertFalse(Fields::isSystem('first_name'));
        $this->assertTrue(Fields::isSecret('login_hash'));
        $this->assertSame(['login_hash'], array_values(array_filter(
            array_keys(Fields::customer()),
            fn($n) => Fields::isSecret($n)
        )));
        $this->assertSame(true, Fields::fromText('b2b', '1'));
        $this->assertSame(17, Fields::fromText('revision', '17'));
        $this->assertSame(true, Fields::fromText('default', '1', true));
        $this->assertMatchesRegularExpression('/libpatron\.so\.1(\.\d+)*$/', FFI::path());
    }

    public function testStatusCodesBecomeTypedExceptions(): void
    {
        $this->assertInstanceOf(NotFoundException::class, Exception::forStatus(-3, 'x'));
        $this->assertInstanceOf(ConflictException::class, Exception::forStatus(-5, 'x'));
        $this->assertInstanceOf(LockedException::class, Exception::forStatus(-12, 'x'));
        $e = Exception::forStatus(-6, 'store failed', new \LogicException('cause'));
        $this->assertInstanceOf(StoreException::class, $e);
        $this->assertSame(-6, $e->status());
        $this->assertSame('cause', $e->getPrevious()->getMessage());
        $this->assertSame(Exception::class, get_class(Exception::forStatus(-99, 'future code')));
        foreach (range(-1, -12) as $code) {
            $this->assertInstanceOf(\RuntimeException::class, Exception::forStatus($code, ''));
        }
    }

    /** Run a PHP snippet in a child process; its output and exit code. */
    private static function php(string $code, array $ini, array $env): array
    {
        $cmd = [PHP_BINARY];
        foreach ($ini as $k => $v) {
            $cmd[] = '-d';
            $cmd[] = "$k=$v";
        }
        $cmd[] = '-r';
        $cmd[] = 'require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . '; ' . $code;
        $p = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        return [$out, proc_close($p)];
    }

    public function testTheLoaderSaysHowToFixThings(): void
    {
        $probe = 'try { Patron\FFI::lib(); echo "loaded"; } catch (Patron\FfiUnavailableException $e) '
            . '{ echo get_class($e), ": ", $e->getMessage(); }';
        [$out] = self::php($probe, ['ffi.enable' => '0'], []);
        $this->assertStringContainsString('ffi.enable=1', $out);
        [$out] = self::php($probe, ['ffi.enable' => 'preload'], []);
        $this->assertSame('loaded', $out, 'ffi.enable=preload allows FFI in the CLI');
        [$out] = self::php($probe, [], ['PATRON_LIBRARY' => '/nonexistent/libpatron.so.1']);
        $this->assertStringContainsString('PATRON_LIBRARY', $out);
        $this->assertStringContainsString('/nonexistent/libpatron.so.1', $out);
    }

    public function testTheLibraryPathCanBeSetFromCode(): void
    {
        $lib = \Patron\FFI::path();
        if (!str_contains($lib, '/')) {
            // Loaded by soname (an installed library): the file the dynamic linker chose.
            $maps = (string) file_get_contents('/proc/self/maps');
            preg_match('~ (/\S*/libpatron\.so\.1[.0-9]*)$~m', $maps, $m);
            $lib = $m[1] ?? $lib;
        }
        $this->assertFileExists($lib);
        // Without any environment variable (PHP-FPM with clear_env): FFI::load() names the file,
        // and Db::sqlite() finds libpatron-sqlite beside it (in a build tree: stores/sqlite/).
        $env = getenv();
        unset($env['PATRON_LIBRARY'], $env['PATRON_SQLITE_LIBRARY'], $env['LD_LIBRARY_PATH']);
        $code = 'require ' . var_export(dirname(__DIR__) . '/autoload.php', true) . '; '
            . 'Patron\FFI::load($argv[1]); Patron\FFI::load($argv[1]); '
            . '$db = Patron\Db::sqlite(":memory:"); echo $db->create(["last_name" => "Pfad"])->number, " ", '
            . 'Patron\FFI::path(); '
            . 'try { Patron\FFI::load("/elsewhere/libpatron.so.1"); } '
            . 'catch (Patron\StateException $e) { echo "\n", $e->getMessage(); }';
        $run = function (string $arg) use ($code, $env): array {
            $p = proc_open(
                [PHP_BINARY, '-d', 'ffi.enable=1', '-r', $code, $arg],
                [1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
                $pipes,
                null,
                $env
            );
            $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
            return [$out, proc_close($p)];
        };
        [$out, $rc] = $run($lib);
        $this->assertSame(0, $rc, $out);
        $lines = explode("\n", $out);
        $this->assertSame("K000001 $lib", $lines[0]);
        $this->assertStringContainsString('must come before the first use', $lines[1]);
        // The directory that holds it does as well.
        [$out, $rc] = $run(dirname($lib));
        $this->assertSame(0, $rc, $out);
        $this->assertStringStartsWith('K000001 ' . dirname($lib) . '/libpatron.so.1', $out);
        // A wrong path: the message names where it came from.
        [$out] = $run('/nonexistent/libpatron.so.1');
        $this->assertStringContainsString("'/nonexistent/libpatron.so.1' (given by FFI::load())", $out);
    }
}
