# CIFAR-10-LT (./cifar10_lt.py) with two augmented views of every training image: the changes of
# ./cifar100_lt_two_view.py (MultiView of the crop + flip augmentation, default_collate, SelfSupDataPreprocessor),
# applied to CIFAR-10-LT. See configs/glmc/README.md, "Two-view pipeline".
_base_ = './cifar10_lt.py'
data_preprocessor = dict(_delete_=True, type='SelfSupDataPreprocessor', mean={{_base_.data_preprocessor.mean}},
                         std={{_base_.data_preprocessor.std}}, to_rgb={{_base_.data_preprocessor.to_rgb}})
view_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
train_pipeline = [dict(type='MultiView', num_views=2, transforms=[view_pipeline]), dict(type='PackInputs')]
train_dataloader = dict(collate_fn=dict(type='default_collate'), dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(collate_fn=dict(type='default_collate'))
test_dataloader = val_dataloader
