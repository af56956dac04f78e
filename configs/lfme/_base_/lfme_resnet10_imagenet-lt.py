# LFME's network and data on ImageNet-LT without a schedule (xiangly55/LFME models/ResNet10Feature.py,
# config/ImageNet_LT/*.py): ResNet-10 (BasicBlock x (1, 1, 1, 1), OLTR's, no zero-init residual) + global average
# pooling + `fc_add` Linear(512, 512) + ReLU (a LinearNeck) + a 1000-way linear classifier with bias (its
# DotProduct_Classifier), from scratch; classifier-balancing's ImageNet-LT transforms (RandomResizedCrop 224, flip,
# ColorJitter 0.4 / resize 256, crop 224), as the official loader. The expert and student configs of this folder
# inherit it, each with its schedule on the classifier-balancing ImageNet-LT one.
_base_ = ['../../_base_/datasets/imagenet_lt.py', '../../_base_/schedules/imagenet_lt_90e.py',
          '../../_base_/default_runtime_cls.py']
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet10', out_indices=(3, )),
    neck=dict(type='LinearNeck', in_channels=512, out_channels=512, gap_dim=2, norm_cfg=None,
              act_cfg=dict(type='ReLU')),
    head=dict(type='LinearClsHead', num_classes={{_base_.num_classes}}, in_channels=512,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))  # every official LFME run
