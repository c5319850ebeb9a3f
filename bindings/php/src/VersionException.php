<?php

declare(strict_types=1);

namespace Patron;

/** The loaded libpatron is not a version this binding supports. */
class VersionException extends FfiUnavailableException
{
}
