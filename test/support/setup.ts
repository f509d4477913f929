import { installNetwork } from './net'
import { watchForSecrets } from './secrets'

watchForSecrets()
installNetwork()
