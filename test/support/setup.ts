import { installNetwork } from './net'

installNetwork()
