# Plain softmax cross-entropy, ResNet-50 on ImageNet-LT, 90 epochs (classifier-balancing's joint recipe): the
# reference every ImageNet-LT method README compares to. tools/dist_train.sh THIS_CONFIG 8
_base_ = ['../_base_/models/resnet50_lt.py', '../_base_/datasets/imagenet_lt.py',
          '../_base_/schedules/imagenet_lt_90e.py', '../_base_/default_runtime_cls.py']
