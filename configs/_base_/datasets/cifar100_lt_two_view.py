# CIFAR-100-LT (./cifar100_lt.py) with two augmented views of every training image, for the methods that train on
# views in pairs (GLMC; MDCS and the contrastive methods). What changes, and why (configs/glmc/README.md, "Two-view
# pipeline"):
# - train: mmpretrain's MultiView runs ./cifar100_lt.py's augmentation (crop 32 with padding 4, flip) twice per
#   image; PackInputs packs the two views as a list, so a sample's `inputs` is [view_1, view_2];
# - every loader collates with `default_collate`, which stacks: a training batch's `inputs` is a list of one
#   (B, 3, 32, 32) tensor per view, a test batch's one (B, 3, 32, 32) tensor;
# - mmpretrain's SelfSupDataPreprocessor normalises both forms (ClsDataPreprocessor does not take lists of views);
#   it takes no num_classes. The model receives the list of views in `loss()` and one tensor in `predict()`.
# Other view augmentations: override `train_dataloader.dataset.pipeline` (MultiView takes one transform list per
# group of views, e.g. num_views=[1, 1] with two lists).
_base_ = './cifar100_lt.py'
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
