# Plain softmax cross-entropy, ResNeXt-50 (32x4d) on ImageNet-LT, 90 epochs: classifier-balancing's "Joint" baseline
# (and the stage 1 that its cRT / tau-norm / LWS start from). tools/dist_train.sh THIS_CONFIG 8
_base_ = ['../_base_/models/resnext50_lt.py', '../_base_/datasets/imagenet_lt.py',
          '../_base_/schedules/imagenet_lt_90e.py', '../_base_/default_runtime_cls.py']
