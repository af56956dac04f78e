# Plain softmax cross-entropy, ResNet-50 on iNaturalist 2018, 90 epochs: classifier-balancing's iNat recipe (the
# ImageNet-LT schedule with weight decay 1e-4).
_base_ = ['../_base_/models/resnet50_lt.py', '../_base_/datasets/inat18.py',
          '../_base_/schedules/imagenet_lt_90e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
